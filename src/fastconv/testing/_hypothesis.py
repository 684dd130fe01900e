"""Hypothesis strategies that draw valid, consistent argument sets for the public ops.

Each strategy builds its arguments constructively (sizes are drawn within what the window
needs, never filtered), so hypothesis shrinks towards small, simple calls. Array values come
from a drawn seed (standard normal), so a failing example is reproducible from its repr.
Imported only when a strategy is first used: hypothesis is an optional dependency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from .._geometry import join_shape
from ._shapes import output_shape
from ._tolerance import reduction_length

# Padding spellings a strategy may draw (`paddings=`): TF's ("SAME", "VALID", "explicit":
# [[top, bottom], [left, right]]), ONNX's ("SAME_LOWER"; "onnx": padding="NOTSET" with
# pads=[top, left, bottom, right]) and PyTorch's ("torch": an int or (h, w), symmetric).
PADDING_KINDS = ("SAME", "VALID", "explicit", "SAME_LOWER", "onnx", "torch")
_PADDINGS = ("SAME", "VALID", "explicit")   # the default: what TF accepts


@dataclass(frozen=True, repr=False)
class Call:
    """One drawn call: `op` (a public function's name), its positional `args` (arrays first)
    and keyword `kwargs`, the `reduction` length of its sums (for assert_allclose) and the
    `seed` its arrays came from.

    call.run(fastconv) or call.run(fastconv.reference) calls the op of that module;
    call(fn) calls any function with the same arguments."""

    op: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    reduction: int = 1
    seed: int = 0

    def __call__(self, fn):
        return fn(*self.args, **self.kwargs)

    def run(self, module):
        return getattr(module, self.op)(*self.args, **self.kwargs)

    @property
    def input(self) -> np.ndarray:
        return self.args[0]

    @property
    def dtype(self) -> np.dtype:
        return self.args[0].dtype

    @property
    def output_shape(self) -> tuple:
        shapes = [a.shape if isinstance(a, np.ndarray) else a for a in self.args]
        kwargs = {k: v for k, v in self.kwargs.items() if k in _SHAPE_KWARGS}
        return output_shape(self.op, *shapes, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"<{a.dtype} array {a.shape}>" if isinstance(a, np.ndarray) else repr(a)
                         for a in self.args)
        kwargs = "".join(
            f", {k}=" + (f"<{v.dtype} array {v.shape}>" if isinstance(v, np.ndarray) else repr(v))
            for k, v in self.kwargs.items())
        return f"Call({self.op}({args}{kwargs}), reduction={self.reduction}, seed={self.seed})"


# The keyword arguments output_shape takes besides the positional ones.
_SHAPE_KWARGS = ("filter_format", "pads", "dilations", "ceil_mode")


@dataclass(frozen=True)
class _Window:
    k: tuple
    stride: tuple
    dilation: tuple
    padding: object            # the padding argument
    kwargs: dict               # pads= for ONNX's spelling
    pad_sums: tuple | None     # cells of padding per dimension; None for SAME / SAME_LOWER


def _window(draw, max_kernel, max_stride, max_dilation, dilation_with_stride, paddings,
            pool=False) -> _Window:
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    strided = draw(st.booleans())
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(2))
    if not dilation_with_stride:   # TF refuses dilation > 1 together with stride > 1
        stride, dilation = (stride, (1, 1)) if strided else ((1, 1), dilation)
    kind = draw(st.sampled_from(paddings))
    if kind in ("SAME", "VALID", "SAME_LOWER"):
        return _Window(k, stride, dilation, kind, {}, None if kind != "VALID" else (0, 0))
    # A pool's padding must be smaller than its (dilated) window, and PyTorch's at most half
    # of it; a convolution's is up to 3 cells.
    eff = [(kk - 1) * d + 1 for kk, d in zip(k, dilation)]
    most = [(e // 2 if kind == "torch" else e - 1) if pool else 3 for e in eff]
    if kind == "torch":
        p = tuple(draw(st.integers(0, m)) for m in most)
        padding = p[0] if p[0] == p[1] and draw(st.booleans()) else p
        return _Window(k, stride, dilation, padding, {}, (2 * p[0], 2 * p[1]))
    pairs = tuple((draw(st.integers(0, m)), draw(st.integers(0, m))) for m in most)
    sums = (sum(pairs[0]), sum(pairs[1]))
    if kind == "onnx":
        (top, bottom), (left, right) = pairs
        return _Window(k, stride, dilation, "NOTSET", {"pads": [top, left, bottom, right]},
                       sums)
    return _Window(k, stride, dilation, pairs, {}, sums)


def _sizes(draw, win: _Window, max_size):
    """Input height and width for which the window fits (an output of at least 1)."""
    sizes = []
    for i in range(2):
        eff = (win.k[i] - 1) * win.dilation[i] + 1
        need = 1 if win.pad_sums is None else max(eff - win.pad_sums[i], 1)
        sizes.append(draw(st.integers(need, max(need, max_size))))
    return sizes


def _array(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _common(draw, dtypes, data_formats, max_batch):
    return (np.dtype(draw(st.sampled_from(dtypes))), draw(st.sampled_from(data_formats)),
            draw(st.integers(1, max_batch)), draw(st.integers(0, 2**32 - 1)))


def _check_paddings(paddings):
    bad = [p for p in paddings if p not in PADDING_KINDS]
    if bad or not paddings:
        raise ValueError(f"paddings must be a non-empty subset of {PADDING_KINDS}, got "
                         f"{paddings!r}")


def _algorithm(draw, algorithms, k, stride, dilation, groups):
    ok = [a for a in algorithms if a != "winograd" or
          (k, stride, dilation, groups) == ((3, 3), (1, 1), (1, 1), 1)]
    return draw(st.sampled_from(ok)) if ok else "auto"


@st.composite
def conv2d_args(draw, *, dtypes=("float32", "float64"), data_formats=("NHWC", "NCHW"),
                paddings=_PADDINGS, max_batch=2, max_size=10, max_kernel=5, max_stride=3,
                max_dilation=3, dilation_with_stride=True, max_groups=3,
                max_channels_per_group=4, max_out_per_group=4, bias=False, activations=(None,),
                algorithms=(), filter_formats=("HWIO",)):
    """conv2d calls: groups from 1 to max_groups, any stride, dilation and padding spelling
    in `paddings` (PADDING_KINDS: TF's, ONNX's, PyTorch's); filters HWIO or, drawn from
    `filter_formats`, OIHW (filter_format="OIHW"); bias=True adds a bias; activations and
    algorithms (names of conv2d's algorithm=) are drawn when given (an algorithm only where
    it applies). dilation_with_stride=False keeps to what TF accepts."""
    _check_paddings(paddings)
    dtype, fmt, batch, seed = _common(draw, dtypes, data_formats, max_batch)
    win = _window(draw, max_kernel, max_stride, max_dilation, dilation_with_stride, paddings)
    k, stride, dilation, padding = win.k, win.stride, win.dilation, win.padding
    h, w = _sizes(draw, win, max_size)
    groups = draw(st.integers(1, max_groups))
    cg = draw(st.integers(1, max_channels_per_group))
    og = draw(st.integers(1, max_out_per_group))
    rng = np.random.default_rng(seed)
    x = _array(rng, join_shape(batch, h, w, groups * cg, fmt), dtype)
    f = _array(rng, (k[0], k[1], cg, groups * og), dtype)
    kwargs = dict(win.kwargs)
    filter_format = draw(st.sampled_from(filter_formats))
    if filter_format == "OIHW":   # PyTorch's and ONNX's weight layout
        f = np.ascontiguousarray(f.transpose(3, 2, 0, 1))
        kwargs["filter_format"] = "OIHW"
    if bias:
        kwargs["bias"] = _array(rng, (groups * og,), dtype)
    if activations != (None,):
        kwargs["activation"] = draw(st.sampled_from(activations))
    if algorithms:
        kwargs["algorithm"] = _algorithm(draw, algorithms, k, stride, dilation, groups)
    return Call("conv2d", (x, f, stride, padding, fmt, dilation), kwargs,
                reduction_length("conv2d", f.shape, bias=bias, filter_format=filter_format),
                seed)


@st.composite
def depthwise_conv2d_args(draw, *, dtypes=("float32", "float64"), data_formats=("NHWC", "NCHW"),
                          paddings=_PADDINGS, max_batch=2, max_size=10, max_kernel=5,
                          max_stride=3, max_dilation=3, dilation_with_stride=True,
                          equal_strides=False, max_channels=9, max_multiplier=3, bias=False,
                          activations=(None,)):
    """depthwise_conv2d calls: filter [kh, kw, C, multiplier]. equal_strides=True draws one
    stride for both dimensions (TF's float64 kernel needs it)."""
    _check_paddings(paddings)
    dtype, fmt, batch, seed = _common(draw, dtypes, data_formats, max_batch)
    win = _window(draw, max_kernel, max_stride, max_dilation, dilation_with_stride, paddings)
    k, stride, dilation, padding = win.k, win.stride, win.dilation, win.padding
    if equal_strides:
        stride = (stride[0], stride[0])
    h, w = _sizes(draw, win, max_size)
    c = draw(st.integers(1, max_channels))
    m = draw(st.integers(1, max_multiplier))
    rng = np.random.default_rng(seed)
    x = _array(rng, join_shape(batch, h, w, c, fmt), dtype)
    f = _array(rng, (k[0], k[1], c, m), dtype)
    kwargs = dict(win.kwargs)
    if bias:
        kwargs["bias"] = _array(rng, (c * m,), dtype)
    if activations != (None,):
        kwargs["activation"] = draw(st.sampled_from(activations))
    return Call("depthwise_conv2d", (x, f, stride, padding, fmt, dilation), kwargs,
                reduction_length("depthwise_conv2d", f.shape, bias=bias), seed)


@st.composite
def pool2d_args(draw, *, ops=("max_pool2d", "avg_pool2d"), dtypes=("float32", "float64"),
                data_formats=("NHWC", "NCHW"), paddings=_PADDINGS, max_batch=2, max_size=11,
                max_kernel=5, max_stride=3, max_dilation=1, max_channels=9, ceil_mode=False,
                count_include_pad=False):
    """max_pool2d / avg_pool2d calls (`ops`): padding smaller than the window (PyTorch's
    spelling: at most half of it). max_dilation > 1 draws PyTorch's / ONNX's pooling
    dilation; ceil_mode=True and count_include_pad=True (avg) draw those flags too (ceil_mode
    only with explicit padding or VALID, as PyTorch and ONNX define it)."""
    _check_paddings(paddings)
    op = draw(st.sampled_from(ops))
    dtype, fmt, batch, seed = _common(draw, dtypes, data_formats, max_batch)
    win = _window(draw, max_kernel, max_stride, max_dilation, True, paddings, pool=True)
    h, w = _sizes(draw, win, max_size)
    c = draw(st.integers(1, max_channels))
    x = _array(np.random.default_rng(seed), join_shape(batch, h, w, c, fmt), dtype)
    kwargs = dict(win.kwargs)
    if win.dilation != (1, 1):
        kwargs["dilations"] = win.dilation
    if ceil_mode and win.pad_sums is not None and draw(st.booleans()):
        kwargs["ceil_mode"] = True
    if count_include_pad and op == "avg_pool2d" and draw(st.booleans()):
        kwargs["count_include_pad"] = True
    return Call(op, (x, win.k, win.stride, win.padding, fmt), kwargs,
                reduction_length(op, ksize=win.k), seed)
