"""Pointing at the line responsible for a diagnosed mistake, and the verified fix (--fix)."""
