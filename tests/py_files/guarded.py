"""Functions that misbehave in the ways user code does; test_guard.py calls them under the guard."""
import sys
import time
import warnings

import numpy as np


def identity(x):
    return x


def spin():
    while True:
        pass


def spin_swallowing():
    while True:
        try:
            while True:
                pass
        except:  # noqa: E722 - a bare except must not defeat the time limit
            pass


def sleeps():
    time.sleep(100)


def corre(a, f):
    total = 0
    for r in range(3):
        total += a[r][0] * f[r][0]
    return total


def deep(a, n=3):
    if n == 0:
        return a[99]
    return deep(a, n - 1)


def exits():
    sys.exit(3)


def quits():
    exit()


def asks():
    return input("size? ")


def chatty(n):
    for i in range(n):
        print("step", i)
        print("err", i, file=sys.stderr)
    return n


def warns():
    warnings.warn("careful")
    return np.ones(2) / 0.0


def interrupts():
    raise KeyboardInterrupt


def calls_numpy_badly(x):
    return np.dot(np.ones((2, 3)), np.ones((2, 3)))


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")


def raises_unprintable():
    raise Unprintable()
