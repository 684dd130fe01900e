"""Shared helpers of the pooling-gradient tests (test_pool_grad_tf.py against TensorFlow,
test_pool_grad_kernel.py against the reference, which runs under the sanitizers too)."""

from __future__ import annotations


def reduction(kind, ksize, strides):
    """How many window shares one input cell can sum: overlapping windows add up."""
    over = -(-ksize[0] // strides[0]) * -(-ksize[1] // strides[1])
    return over if kind == "max" else over * ksize[0] * ksize[1]


def make_input(rng, shape, dtype, ties):
    """Normal values, or small integers where `ties` (windows with equal maxima)."""
    if ties:
        return rng.integers(0, 3, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def shape_of(n, h, w, c, fmt):
    return (n, h, w, c) if fmt == "NHWC" else (n, c, h, w)
