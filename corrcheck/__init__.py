"""corrcheck: a gradient checker that names the stride/padding indexing mistake."""
__version__ = "0.1.0"
