import sys


def main():
    return 0


def f(x):
    return x


sys.exit(main())
