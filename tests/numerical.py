"""Numerical helpers shared by the tests."""

import numpy as np


def central_difference(f, x, eps=1e-6):
    """Gradient of the scalar function `f` at the float64 array `x` by central differences."""
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        gradient[index] = (f(plus) - f(minus)) / (2 * eps)
    return gradient
