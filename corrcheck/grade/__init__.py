"""`corrcheck grade`: check a whole class of submissions, each in its own limited process.

discover (one submission per folder) -> cache (content hash) -> pool (one child per
submission, `python -m corrcheck.grade.worker`) -> summary (the class's mistakes).
The views (table, CSV, class report, feedback files) live in corrcheck/report/grade.py.
"""
from .classroom import DEFAULT_MEMORY_MB, DEFAULT_TIME_LIMIT, Entry, GradeResult, default_jobs, grade

__all__ = ["grade", "GradeResult", "Entry", "default_jobs", "DEFAULT_TIME_LIMIT", "DEFAULT_MEMORY_MB"]
