"""corrcheck: a gradient checker that names the stride/padding indexing mistake.

    import corrcheck
    result = corrcheck.check("conv.py", stride=2, pad=1)
    result.passed, result.to_dict()

Heavy modules load on first use, so `import corrcheck` (and `corrcheck --help`) stay instant.
"""
__version__ = "0.1.0"
__all__ = ["check", "reference", "testing", "__version__"]


def __getattr__(name):
    if name == "check":
        from .api import check          # lazy: `import corrcheck` stays instant (no NumPy)
        return check
    if name in ("reference", "testing"):
        import importlib                # lazy: only these two names need it
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'corrcheck' has no attribute {name!r}")
