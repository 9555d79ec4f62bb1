"""A helper module next to the user's file (the course's layers_utils)."""


def im2col(x, k):
    return [x[i:i + k] for i in range(len(x) - k + 1)]


def _private_helper():
    return 1
