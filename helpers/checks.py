"""Checking utilities: relative error, centered numerical gradients, readable closeness asserts, and the
exact McNemar test for two models scored on the same items.

They accept NumPy arrays, torch tensors (moved to CPU float64 for the comparison) or scalars.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np


def to_numpy(x) -> np.ndarray:
    """A float64 NumPy copy of an array, tensor or scalar (detached, on the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def rel_error(x, y) -> float:
    """cs231n relative error: max |x - y| / max(1e-8, |x| + |y|), elementwise; shapes must match."""
    a, b = to_numpy(x), to_numpy(y)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5,
                       upstream: np.ndarray | None = None) -> np.ndarray:
    """Centered finite differences of f at x: (f(x+h e_i) - f(x-h e_i)) / 2h for every entry i.

    `f` maps an array to a scalar, or to an array when `upstream` (dL/df, same shape as f(x)) is
    given, in which case the gradient of sum(f(x) * upstream) is returned. `x` is restored.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError("numerical_gradient needs a floating-point NumPy array x (use float64 for accuracy)")
    if h <= 0:
        raise ValueError(f"step h must be positive, got {h}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        diff = np.asarray(plus, dtype=np.float64) - np.asarray(minus, dtype=np.float64)
        grad[i] = np.sum(diff * upstream) / (2 * h) if upstream is not None else diff / (2 * h)
    return grad


def assert_close(actual, expected, tol: float = 1e-6, name: str = "value", metric: str = "max_abs") -> float:
    """Assert that `actual` matches `expected` within `tol`; returns the error, prints nothing.

    metric="max_abs" compares max |actual - expected|; metric="rel" uses `rel_error`.
    The AssertionError names the quantity, the error, the tolerance and the worst entry.
    """
    a, b = to_numpy(actual), to_numpy(expected)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shape {a.shape} != expected shape {b.shape}")
    if metric == "max_abs":
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
    elif metric == "rel":
        err = rel_error(a, b)
    else:
        raise ValueError(f"metric must be 'max_abs' or 'rel', got {metric!r}")
    if not err <= tol:  # also catches NaN
        gap = np.abs(a - b)
        worst = np.unravel_index(int(np.argmax(np.where(np.isnan(gap), np.inf, gap))), a.shape)
        raise AssertionError(
            f"{name}: {metric} error {err:.3e} exceeds tolerance {tol:.1e} "
            f"(worst entry {tuple(int(i) for i in worst)}: got {a[worst]!r}, expected {b[worst]!r})"
        )
    return err


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar test for two classifiers scored on the same items.

    only_a, only_b: how many items only the first, only the second classifier gets right (the items they
    disagree on). Under the null hypothesis each disagreement is a fair coin, so the p-value is
    min(1, 2 P(X <= min(only_a, only_b))) with X ~ Binomial(only_a + only_b, 1/2); 1.0 when they never disagree.
    """
    for name, value in (("only_a", only_a), ("only_b", only_b)):
        if isinstance(value, bool) or not float(value).is_integer() or value < 0:
            raise ValueError(f"mcnemar_exact: {name} must be a count (an integer >= 0), got {value!r}")
    b, c = int(only_a), int(only_b)
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)
