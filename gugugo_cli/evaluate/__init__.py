"""The `gugugo-eval` command: translate a test set with one or more configurations and score the translations
(chrF++, BLEU, optionally COMET) with bootstrap confidence intervals, speed, memory and the guards' counts."""
