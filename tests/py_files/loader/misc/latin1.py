TEXT = "café"


def f():
    return TEXT
