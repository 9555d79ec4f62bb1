#!/usr/bin/env python3
"""Forward, as a Holberton task file."""
import numpy as np


def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    return pad_it(A_prev) * 2
