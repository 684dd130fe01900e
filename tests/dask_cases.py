"""Seeded random cases for fastconv.dask: an op, its arguments, an input and a chunking;
shared by the threaded-scheduler tests and the LocalCluster tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import dask.array as da
import numpy as np

import fastconv
import fastconv.dask
from tolerance import assert_close

OPS = ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d")


@dataclass
class Case:
    op: str
    x: np.ndarray
    chunks: tuple  # per-axis chunk sizes of the Dask input
    args: tuple  # the op's positional arguments after the input
    kwargs: dict = field(default_factory=dict)
    reduction: int = 1  # the length of each output's sum (for the tolerance)

    @property
    def exact(self) -> bool:
        """Whether the tiles must match the whole-array call bit for bit: unless the
        convolution runs Winograd (auto resolves once, for the whole array, and every tile
        runs what it picked)."""
        if self.op != "conv2d":
            return True
        algorithm = self.kwargs["algorithm"]
        if algorithm == "auto":
            conventions = {k: v for k, v in self.kwargs.items() if k in ("pads", "filter_format")}
            algorithm = fastconv.conv2d_algorithm(self.x, *self.args, **conventions)
        return algorithm != "winograd"

    def numpy(self):
        return getattr(fastconv, self.op)(self.x, *self.args, **self.kwargs)

    def dask(self):
        return getattr(fastconv.dask, self.op)(
            da.from_array(self.x, chunks=self.chunks), *self.args, **self.kwargs
        )

    def check(self, result, expected=None) -> None:
        """result equals the whole-array call: bit for bit, or within the tolerance where
        the algorithm's rounding depends on where its tiles fall (Winograd)."""
        expected = self.numpy() if expected is None else expected
        assert result.dtype == expected.dtype, self
        if self.exact:
            np.testing.assert_array_equal(result, expected, err_msg=repr(self))
        else:
            assert_close(result, expected, self.reduction, expected.dtype, err_msg=repr(self))

    def __repr__(self):
        return (
            f"Case({self.op}, x{self.x.shape} {self.x.dtype}, chunks={self.chunks}, "
            f"args={self.args!r}, kwargs={ {k: v for k, v in self.kwargs.items() if k != 'bias'} })"
        )


def partition(rng, size: int) -> tuple[int, ...]:
    """Random chunk sizes adding up to size (often including chunks of 1 cell)."""
    if size <= 1:
        return (size,)
    cuts = np.sort(
        rng.choice(np.arange(1, size), size=rng.integers(0, min(size - 1, 4) + 1), replace=False)
    )
    edges = [0, *cuts.tolist(), size]
    return tuple(b - a for a, b in zip(edges, edges[1:]))


def padding_kwargs(rng, limit: int) -> tuple[object, dict]:
    """A padding in one of the spellings the functions take (TF's, PyTorch's ints, ONNX's
    auto_pad names and pads=), each explicit value at most `limit`: (padding, {pads=...})."""
    kind = int(rng.integers(7))
    values = [int(v) for v in rng.integers(0, limit + 1, 4)]
    if kind < 3:
        return ("SAME", "VALID", "SAME_LOWER")[kind], {}
    if kind == 3:
        return [values[:2], values[2:]], {}
    if kind == 4:
        return values[0], {}  # PyTorch: the same on every side
    if kind == 5:
        return (values[0], values[1]), {}  # PyTorch (h, w)
    return "NOTSET", {"pads": values}  # ONNX [top, left, bottom, right]


def filter_kwargs(rng, f: np.ndarray, depthwise: bool) -> tuple[np.ndarray, dict]:
    """The HWIO filter as it is, or in PyTorch's OIHW layout with filter_format="OIHW"."""
    if rng.integers(2):
        return f, {}
    if depthwise:  # [kh, kw, C, M] -> [C * M, 1, kh, kw]
        oihw = f.reshape(f.shape[0], f.shape[1], 1, -1).transpose(3, 2, 0, 1)
    else:
        oihw = f.transpose(3, 2, 0, 1)
    return np.ascontiguousarray(oihw), {"filter_format": "OIHW"}


def _draw(rng, op: str) -> Case:
    fmt = str(rng.choice(["NHWC", "NCHW"]))
    dtype = np.dtype(rng.choice([np.float32, np.float64]))
    n, h, w, c = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 30)),
        int(rng.integers(1, 30)),
        int(rng.integers(1, 6)),
    )
    k = tuple(int(v) for v in rng.integers(1, 6, 2))
    strides = [int(v) for v in rng.integers(1, 4, 2)]
    shape = (n, h, w, c) if fmt == "NHWC" else (n, c, h, w)
    x = rng.standard_normal(shape).astype(dtype)
    chunks = tuple(partition(rng, s) for s in shape)
    if op in ("max_pool2d", "avg_pool2d"):
        padding, options = padding_kwargs(rng, min(k) - 1)
        options["dilations"] = [int(v) for v in rng.integers(1, 3, 2)]
        options["ceil_mode"] = bool(rng.integers(2))
        if op == "avg_pool2d":
            options["count_include_pad"] = bool(rng.integers(2))
        return Case(op, x, chunks, (list(k), strides, padding, fmt), options, k[0] * k[1])
    dilations = [int(v) for v in rng.integers(1, 3, 2)]
    padding, options = padding_kwargs(rng, 6)
    options["activation"] = rng.choice([None, "relu", "tanh"])
    if op == "depthwise_conv2d":
        out_c = c * int(rng.integers(1, 3))
        f = rng.standard_normal((*k, c, out_c // c)).astype(dtype)
        reduction = k[0] * k[1]
    else:
        groups = int(rng.choice([g for g in (1, 2, 3) if c % g == 0]))
        out_c = groups * int(rng.integers(1, 4))
        f = rng.standard_normal((*k, c // groups, out_c)).astype(dtype)
        reduction = k[0] * k[1] * (c // groups)
        algorithms = ["auto", "direct", "im2col"]
        if k == (3, 3) and strides == [1, 1] and dilations == [1, 1] and groups == 1:
            algorithms.append("winograd")
        options["algorithm"] = str(rng.choice(algorithms))
    f, more = filter_kwargs(rng, f, op == "depthwise_conv2d")
    options.update(more)
    if rng.integers(2):
        options["bias"] = rng.standard_normal(out_c).astype(dtype)
    return Case(op, x, chunks, (f, strides, padding, fmt, dilations), options, reduction)


def random_cases(rng, count: int, ops=OPS) -> list[Case]:
    """`count` cases per op whose windows fit their inputs (others are drawn again)."""
    cases = []
    for op in ops:
        while sum(c.op == op for c in cases) < count:
            case = _draw(rng, op)
            try:
                case.numpy()
            except ValueError:  # the window does not fit this input (or ceil_mode and SAME)
                continue
            cases.append(case)
    return cases
