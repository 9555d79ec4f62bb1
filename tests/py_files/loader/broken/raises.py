def helper():
    raise ValueError("bad configuration")


CONFIG = helper()
