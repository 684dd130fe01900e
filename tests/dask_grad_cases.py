"""Seeded random cases for the gradient ops of fastconv.dask: the op, its arguments (those
given as Chunked become Dask arrays), against the whole-array call; shared by the
threaded-scheduler tests and the LocalCluster tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import dask.array as da
import numpy as np

import fastconv
import fastconv.dask
from dask_cases import filter_kwargs, padding_kwargs, partition
from fastconv.testing import assert_allclose, reduction_length

GRAD_OPS = (
    "conv2d_backprop_input",
    "depthwise_conv2d_backprop_input",
    "conv2d_transpose",
    "conv2d_backprop_filter",
    "depthwise_conv2d_backprop_filter",
    "max_pool2d_grad",
    "avg_pool2d_grad",
)


@dataclass
class Chunked:
    """An argument passed to fastconv.dask as a Dask array of these chunks."""

    array: np.ndarray
    chunks: tuple


@dataclass
class GradCase:
    op: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    reduction: int = 1  # the length of each result's sum (for the tolerance)

    @property
    def exact(self) -> bool:
        """The pooling gradients sum each input cell's windows in the same order in a tile
        as in the whole array; the convolutions' gradients are sums whose order depends on
        the tile (a kernel chosen for the tile's size, a tree of per-tile filter sums)."""
        return self.op.endswith("pool2d_grad")

    def numpy(self):
        args = [a.array if isinstance(a, Chunked) else a for a in self.args]
        return getattr(fastconv, self.op)(*args, **self.kwargs)

    def dask(self):
        args = [
            da.from_array(a.array, chunks=a.chunks) if isinstance(a, Chunked) else a
            for a in self.args
        ]
        return getattr(fastconv.dask, self.op)(*args, **self.kwargs)

    def check(self, result, expected=None) -> None:
        expected = self.numpy() if expected is None else expected
        pairs = zip(result, expected) if isinstance(expected, tuple) else [(result, expected)]
        for got, want in pairs:
            assert got.dtype == want.dtype and got.shape == want.shape, self
            if self.exact:
                np.testing.assert_array_equal(got, want, err_msg=repr(self))
            else:
                assert_allclose(
                    got, want, reduction=self.reduction, dtype=want.dtype, err_msg=repr(self)
                )

    def __repr__(self):
        def show(a):
            if isinstance(a, Chunked):
                return f"Chunked{a.array.shape} {a.array.dtype} chunks={a.chunks}"
            return f"array{a.shape}" if isinstance(a, np.ndarray) else repr(a)

        kwargs = {k: show(v) for k, v in self.kwargs.items()}
        return f"GradCase({self.op}, {', '.join(show(a) for a in self.args)}, {kwargs})"


def _chunked(rng, a: np.ndarray) -> Chunked:
    return Chunked(a, tuple(partition(rng, s) for s in a.shape))


def _draw(rng, op: str) -> GradCase:
    """Random shapes, layouts, dtypes, strides, dilations, padding spellings, filter
    layouts and groups; the chunks of every Dask argument drawn apart (1-cell chunks,
    chunks smaller than the halo)."""
    fmt = str(rng.choice(["NHWC", "NCHW"]))
    dtype = np.dtype(rng.choice([np.float32, np.float64]))
    n, h, w, c = (int(v) for v in (rng.integers(1, 3), *rng.integers(1, 26, 2), rng.integers(1, 6)))
    k = [int(v) for v in rng.integers(1, 6, 2)]
    strides = [int(v) for v in rng.integers(1, 4, 2)]
    shape = (n, h, w, c) if fmt == "NHWC" else (n, c, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    if op.endswith("pool2d_grad"):
        padding, options = padding_kwargs(rng, min(k) - 1)
        pool = fastconv.max_pool2d if op == "max_pool2d_grad" else fastconv.avg_pool2d
        x[0].flat[:: max(1, x[0].size // 3)] = 0.0  # ties: the first maximum wins
        y = pool(x, k, strides, padding, fmt, **options)
        g = rng.standard_normal(y.shape).astype(dtype)
        reduction = reduction_length(op, ksize=k)
        options["data_format"] = fmt
        if op == "max_pool2d_grad":
            args = (_chunked(rng, x), _chunked(rng, y), _chunked(rng, g))
        else:
            args = (list(x.shape), _chunked(rng, g))
        return GradCase(op, (*args, k, strides, padding), options, reduction)
    dilations = [int(v) for v in rng.integers(1, 3, 2)]
    padding, options = padding_kwargs(rng, 6)
    options.update(data_format=fmt, dilations=dilations)
    depthwise = op.startswith("depthwise")
    if depthwise:
        out_c = c * int(rng.integers(1, 3))
        f = rng.standard_normal((*k, c, out_c // c)).astype(dtype)
        groups = c
        forward = fastconv.depthwise_conv2d
    else:
        groups = int(rng.choice([g for g in (1, 2, 3) if c % g == 0]))
        out_c = groups * int(rng.integers(1, 4))
        f = rng.standard_normal((*k, c // groups, out_c)).astype(dtype)
        forward = fastconv.conv2d
    y = forward(x, f, strides, padding, fmt, dilations, pads=options.get("pads"))
    dy = rng.standard_normal(y.shape).astype(dtype)
    f, more = filter_kwargs(rng, f, depthwise)
    options.update(more)
    ffmt = options.get("filter_format", "HWIO")
    if op.endswith("backprop_filter"):
        options["return_bias_grad"] = bool(rng.integers(2))
        reduction = reduction_length(op, out_backprop=dy, data_format=fmt)
        return GradCase(
            op,
            (_chunked(rng, x), list(f.shape), _chunked(rng, dy), strides, padding),
            options,
            reduction,
        )
    rule = "conv2d_backprop_input" if op == "conv2d_transpose" else op
    reduction = reduction_length(rule, f, groups=1 if depthwise else groups, filter_format=ffmt)
    if op == "conv2d_transpose":
        options["activation"] = rng.choice([None, "relu", "sigmoid"])
        if rng.integers(2):
            options["bias"] = rng.standard_normal(c).astype(dtype)
        output_shape: list | None = list(x.shape)
        if groups == 1 and padding not in ("SAME", "SAME_LOWER") and rng.integers(2):
            # PyTorch's way: the size from output_padding (below the stride)
            output_shape = None
            options["output_padding"] = [int(rng.integers(s)) for s in strides]
        return GradCase(
            op, (_chunked(rng, dy), f, output_shape, strides, padding), options, reduction
        )
    return GradCase(op, (list(x.shape), f, _chunked(rng, dy), strides, padding), options, reduction)


def random_grad_cases(rng, count: int, ops=GRAD_OPS) -> list[GradCase]:
    """`count` cases per op whose windows fit their inputs (others are drawn again)."""
    cases: list[GradCase] = []
    for op in ops:
        while sum(c.op == op for c in cases) < count:
            try:
                case = _draw(rng, op)
                case.numpy()
            except ValueError:  # the window does not fit this input (or ceil_mode and SAME)
                continue
            cases.append(case)
    return cases
