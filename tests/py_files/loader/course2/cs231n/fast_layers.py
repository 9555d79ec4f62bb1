"""No __init__.py in this course folder: cs231n is a namespace package."""


def conv_forward_fast(x):
    return x + 1
