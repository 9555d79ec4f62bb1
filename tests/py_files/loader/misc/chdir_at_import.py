import os

os.chdir(os.path.dirname(os.path.abspath(__file__)))


def f(x):
    return x
