"""The language labels Gugugo prompts use (`### 영어: …`); the koja models use 일본어 for Japanese."""

LABELS = {"ko": "한국어", "en": "영어", "ja": "일본어"}
