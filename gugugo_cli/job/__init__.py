"""A run over many files: inputs (which files, where outputs go), pool (dedupe, cache, translator calls),
run (the pooled stream and writing each file), cache (SQLite)."""

from .cache import SegmentCache, default_cache_path
from .inputs import FileTask, Summary, find_inputs, output_path
from .host import default_workers
from .run import Progress, look_up, plan_tasks, run, run_files, write_file

__all__ = ["SegmentCache", "default_cache_path", "FileTask", "Summary", "find_inputs", "output_path", "Progress",
           "look_up", "plan_tasks", "run", "run_files", "write_file", "default_workers"]
