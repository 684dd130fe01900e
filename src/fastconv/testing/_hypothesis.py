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

from .. import reference  # plain NumPy: the forward output max_pool2d_grad takes
from .._geometry import join_shape
from ._shapes import output_shape
from ._tolerance import reduction_length

# Padding spellings a strategy may draw (`paddings=`): TF's ("SAME", "VALID", "explicit":
# [[top, bottom], [left, right]]), ONNX's ("SAME_LOWER"; "onnx": padding="NOTSET" with
# pads=[top, left, bottom, right]) and PyTorch's ("torch": an int or (h, w), symmetric).
PADDING_KINDS = ("SAME", "VALID", "explicit", "SAME_LOWER", "onnx", "torch")
_PADDINGS = ("SAME", "VALID", "explicit")  # the default: what TF accepts


@dataclass(frozen=True, repr=False)
class Call:
    """One drawn call: `op` (a public function's name), its positional `args` (arrays first)
    and keyword `kwargs`, the `reduction` length of its sums, the size of their terms
    (`scale`; both for assert_allclose) and the `seed` its arrays came from.

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
    def scale(self) -> float:
        """The size of the terms the op's sums add, for assert_allclose(scale=): the largest
        output of fastconv.reference's op on the arrays' absolute values, without the
        activation. It bounds every |output|, and unlike the outputs it does not shrink when
        a bias cancels the sum or a ReLU zeroes the large outputs, whose rounding the small
        ones still carry. max_pool2d_grad's input and forward output stay as drawn: they
        choose where each gradient goes."""
        kept = 2 if self.op == "max_pool2d_grad" else 0
        args = [
            np.abs(a) if isinstance(a, np.ndarray) and i >= kept else a
            for i, a in enumerate(self.args)
        ]
        kwargs = {
            k: np.abs(v) if isinstance(v, np.ndarray) else v
            for k, v in self.kwargs.items()
            if k != "activation"
        }
        out = getattr(reference, self.op)(*args, **kwargs)
        out = np.asarray(out[0] if isinstance(out, tuple) else out, dtype=np.float64)
        finite = np.abs(out[np.isfinite(out)])
        return float(finite.max()) if finite.size else 0.0

    @property
    def input(self) -> np.ndarray:
        """The first array argument (a gradient op's first may be a shape)."""
        return next(a for a in self.args if isinstance(a, np.ndarray))

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    @property
    def output_shape(self) -> tuple:
        shapes = [a.shape if isinstance(a, np.ndarray) else a for a in self.args]
        kwargs = {k: v for k, v in self.kwargs.items() if k in _SHAPE_KWARGS}
        return output_shape(self.op, *shapes, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(
            f"<{a.dtype} array {a.shape}>" if isinstance(a, np.ndarray) else repr(a)
            for a in self.args
        )
        kwargs = "".join(
            f", {k}=" + (f"<{v.dtype} array {v.shape}>" if isinstance(v, np.ndarray) else repr(v))
            for k, v in self.kwargs.items()
        )
        return f"Call({self.op}({args}{kwargs}), reduction={self.reduction}, seed={self.seed})"


# The keyword arguments output_shape takes besides the positional ones.
_SHAPE_KWARGS = ("filter_format", "pads", "dilations", "ceil_mode", "data_format", "output_padding")


@dataclass(frozen=True)
class _Window:
    k: tuple
    stride: tuple
    dilation: tuple
    padding: object  # the padding argument
    kwargs: dict  # pads= for ONNX's spelling
    pad_sums: tuple | None  # cells of padding per dimension; None for SAME / SAME_LOWER


def _window(
    draw, max_kernel, max_stride, max_dilation, dilation_with_stride, paddings, pool=False
) -> _Window:
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    strided = draw(st.booleans())
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(2))
    if not dilation_with_stride:  # TF refuses dilation > 1 together with stride > 1
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
        return _Window(k, stride, dilation, "NOTSET", {"pads": [top, left, bottom, right]}, sums)
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
    return (
        np.dtype(draw(st.sampled_from(dtypes))),
        draw(st.sampled_from(data_formats)),
        draw(st.integers(1, max_batch)),
        draw(st.integers(0, 2**32 - 1)),
    )


def _check_paddings(paddings):
    bad = [p for p in paddings if p not in PADDING_KINDS]
    if bad or not paddings:
        raise ValueError(
            f"paddings must be a non-empty subset of {PADDING_KINDS}, got {paddings!r}"
        )


def _algorithm(draw, algorithms, k, stride, dilation, groups):
    ok = [
        a
        for a in algorithms
        if a != "winograd" or (k, stride, dilation, groups) == ((3, 3), (1, 1), (1, 1), 1)
    ]
    return draw(st.sampled_from(ok)) if ok else "auto"


@dataclass(frozen=True)
class _Conv:
    """A drawn convolution: its input shape, HWIO filter (HWIO [kh, kw, C / groups, out],
    depthwise: [kh, kw, C, multiplier]), window and the rest of a forward call."""

    dtype: np.dtype
    fmt: str
    seed: int
    rng: np.random.Generator
    win: _Window
    x_shape: tuple
    f: np.ndarray
    groups: int


def _conv(
    draw,
    depthwise,
    dtypes,
    data_formats,
    paddings,
    max_batch,
    max_size,
    max_kernel,
    max_stride,
    max_dilation,
    dilation_with_stride,
    max_groups=1,
    max_channels_per_group=1,
    max_out_per_group=1,
    max_channels=1,
    max_multiplier=1,
    equal_strides=False,
) -> _Conv:
    """The geometry and filter of a conv2d (grouped) or depthwise_conv2d call, shared by the
    forward ops and their gradients."""
    _check_paddings(paddings)
    dtype, fmt, batch, seed = _common(draw, dtypes, data_formats, max_batch)
    win = _window(draw, max_kernel, max_stride, max_dilation, dilation_with_stride, paddings)
    if equal_strides:
        win = _Window(
            win.k,
            (win.stride[0], win.stride[0]),
            win.dilation,
            win.padding,
            win.kwargs,
            win.pad_sums,
        )
    h, w = _sizes(draw, win, max_size)
    if depthwise:
        groups = draw(st.integers(1, max_channels))
        cg, og = 1, draw(st.integers(1, max_multiplier))
    else:
        groups = draw(st.integers(1, max_groups))
        cg = draw(st.integers(1, max_channels_per_group))
        og = draw(st.integers(1, max_out_per_group))
    rng = np.random.default_rng(seed)
    x_shape = join_shape(batch, h, w, groups * cg, fmt)
    f_shape = (win.k[0], win.k[1], groups, og) if depthwise else (*win.k, cg, groups * og)
    return _Conv(dtype, fmt, seed, rng, win, x_shape, _array(rng, f_shape, dtype), groups)


def _oihw(draw, filter_formats, f, depthwise):
    """(filter, filter_format): f as drawn (HWIO), or its OIHW copy (PyTorch's, ONNX's;
    depthwise: PyTorch's [C * multiplier, 1, kh, kw])."""
    filter_format = draw(st.sampled_from(filter_formats))
    if filter_format == "HWIO":
        return f, filter_format
    if depthwise:
        f = f.reshape(f.shape[0], f.shape[1], 1, -1)
    return np.ascontiguousarray(f.transpose(3, 2, 0, 1)), filter_format


@st.composite
def conv2d_args(
    draw,
    *,
    dtypes=("float32", "float64"),
    data_formats=("NHWC", "NCHW"),
    paddings=_PADDINGS,
    max_batch=2,
    max_size=10,
    max_kernel=5,
    max_stride=3,
    max_dilation=3,
    dilation_with_stride=True,
    max_groups=3,
    max_channels_per_group=4,
    max_out_per_group=4,
    bias=False,
    activations=(None,),
    algorithms=(),
    filter_formats=("HWIO",),
):
    """conv2d calls: groups from 1 to max_groups, any stride, dilation and padding spelling
    in `paddings` (PADDING_KINDS: TF's, ONNX's, PyTorch's); filters HWIO or, drawn from
    `filter_formats`, OIHW (filter_format="OIHW"); bias=True adds a bias; activations and
    algorithms (names of conv2d's algorithm=) are drawn when given (an algorithm only where
    it applies). dilation_with_stride=False keeps to what TF accepts."""
    c = _conv(
        draw,
        False,
        dtypes,
        data_formats,
        paddings,
        max_batch,
        max_size,
        max_kernel,
        max_stride,
        max_dilation,
        dilation_with_stride,
        max_groups,
        max_channels_per_group,
        max_out_per_group,
    )
    win, rng = c.win, c.rng
    x = _array(rng, c.x_shape, c.dtype)
    f, filter_format = _oihw(draw, filter_formats, c.f, False)
    kwargs = dict(win.kwargs)
    if filter_format == "OIHW":
        kwargs["filter_format"] = "OIHW"
    if bias:
        kwargs["bias"] = _array(rng, (c.f.shape[3],), c.dtype)
    if activations != (None,):
        kwargs["activation"] = draw(st.sampled_from(activations))
    if algorithms:
        kwargs["algorithm"] = _algorithm(
            draw, algorithms, win.k, win.stride, win.dilation, c.groups
        )
    return Call(
        "conv2d",
        (x, f, win.stride, win.padding, c.fmt, win.dilation),
        kwargs,
        reduction_length("conv2d", f.shape, bias=bias, filter_format=filter_format),
        c.seed,
    )


@st.composite
def depthwise_conv2d_args(
    draw,
    *,
    dtypes=("float32", "float64"),
    data_formats=("NHWC", "NCHW"),
    paddings=_PADDINGS,
    max_batch=2,
    max_size=10,
    max_kernel=5,
    max_stride=3,
    max_dilation=3,
    dilation_with_stride=True,
    equal_strides=False,
    max_channels=9,
    max_multiplier=3,
    bias=False,
    activations=(None,),
    filter_formats=("HWIO",),
):
    """depthwise_conv2d calls: filter [kh, kw, C, multiplier], or PyTorch's [C * multiplier,
    1, kh, kw] where filter_formats holds "OIHW". equal_strides=True draws one stride for
    both dimensions (TF's float64 kernel needs it)."""
    c = _conv(
        draw,
        True,
        dtypes,
        data_formats,
        paddings,
        max_batch,
        max_size,
        max_kernel,
        max_stride,
        max_dilation,
        dilation_with_stride,
        max_channels=max_channels,
        max_multiplier=max_multiplier,
        equal_strides=equal_strides,
    )
    win, rng = c.win, c.rng
    x = _array(rng, c.x_shape, c.dtype)
    f, filter_format = _oihw(draw, filter_formats, c.f, True)
    kwargs = dict(win.kwargs)
    if filter_format == "OIHW":
        kwargs["filter_format"] = "OIHW"
    if bias:
        kwargs["bias"] = _array(rng, (c.f.shape[2] * c.f.shape[3],), c.dtype)
    if activations != (None,):
        kwargs["activation"] = draw(st.sampled_from(activations))
    return Call(
        "depthwise_conv2d",
        (x, f, win.stride, win.padding, c.fmt, win.dilation),
        kwargs,
        reduction_length("depthwise_conv2d", c.f.shape, bias=bias),
        c.seed,
    )


@st.composite
def pool2d_args(
    draw,
    *,
    ops=("max_pool2d", "avg_pool2d"),
    dtypes=("float32", "float64"),
    data_formats=("NHWC", "NCHW"),
    paddings=_PADDINGS,
    max_batch=2,
    max_size=11,
    max_kernel=5,
    max_stride=3,
    max_dilation=1,
    max_channels=9,
    ceil_mode=False,
    count_include_pad=False,
):
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
    return Call(
        op,
        (x, win.k, win.stride, win.padding, fmt),
        kwargs,
        reduction_length(op, ksize=win.k),
        seed,
    )


# ---------------------------------------------------------------- the gradients
# Each draws the forward call the gradient belongs to (the same bounds and switches as the
# forward strategy) and the incoming gradient: a standard normal array of the forward
# output's shape. Gradient ops take no bias or activation (conv2d_transpose does), and
# the pooling gradients no dilation, ceil_mode or count_include_pad.


def _forward_out(c: _Conv, depthwise: bool) -> tuple:
    """The forward call's output shape (c.f is HWIO)."""
    op = "depthwise_conv2d" if depthwise else "conv2d"
    return output_shape(
        op, c.x_shape, c.f.shape, c.win.stride, c.win.padding, c.fmt, c.win.dilation, **c.win.kwargs
    )


def _grad_kwargs(c: _Conv, filter_format: str) -> dict:
    kwargs = {"data_format": c.fmt, "dilations": c.win.dilation, **c.win.kwargs}
    if filter_format == "OIHW":
        kwargs["filter_format"] = "OIHW"
    return kwargs


_CONV_BOUNDS = dict(
    dtypes=("float32", "float64"),
    data_formats=("NHWC", "NCHW"),
    paddings=_PADDINGS,
    max_batch=2,
    max_size=10,
    max_kernel=5,
    max_stride=3,
    max_dilation=3,
    dilation_with_stride=True,
)


def _conv_bounds(bounds, depthwise):
    extra = (
        dict(max_channels=9, max_multiplier=3, equal_strides=False)
        if depthwise
        else dict(max_groups=3, max_channels_per_group=4, max_out_per_group=4)
    )
    unknown = set(bounds) - set(_CONV_BOUNDS) - set(extra) - {"filter_formats"}
    if unknown:
        raise TypeError(f"unexpected bounds {sorted(unknown)}")
    merged = {**_CONV_BOUNDS, **extra, **bounds}
    return merged.pop("filter_formats", ("HWIO",)), merged


def _draw_conv(draw, depthwise, bounds):
    filter_formats, merged = _conv_bounds(bounds, depthwise)
    c = _conv(draw, depthwise, **merged)
    f, filter_format = _oihw(draw, filter_formats, c.f, depthwise)
    return c, f, filter_format


@st.composite
def _backprop_input_args(draw, depthwise, bounds):
    c, f, filter_format = _draw_conv(draw, depthwise, bounds)
    dy = _array(c.rng, _forward_out(c, depthwise), c.dtype)
    op = ("depthwise_" if depthwise else "") + "conv2d_backprop_input"
    # per input cell: every tap of every output channel of its group
    og = c.f.shape[3] if depthwise else c.f.shape[3] // c.groups
    return Call(
        op,
        (c.x_shape, f, dy, c.win.stride, c.win.padding),
        _grad_kwargs(c, filter_format),
        c.win.k[0] * c.win.k[1] * og,
        c.seed,
    )


@st.composite
def _backprop_filter_args(draw, depthwise, bounds):
    c, f, filter_format = _draw_conv(draw, depthwise, bounds)
    x = _array(c.rng, c.x_shape, c.dtype)
    dy = _array(c.rng, _forward_out(c, depthwise), c.dtype)
    op = ("depthwise_" if depthwise else "") + "conv2d_backprop_filter"
    return Call(
        op,
        (x, f.shape, dy, c.win.stride, c.win.padding),
        _grad_kwargs(c, filter_format),
        reduction_length(op, out_backprop=dy.shape, data_format=c.fmt),
        c.seed,
    )


def conv2d_backprop_input_args(**bounds):
    """conv2d_backprop_input calls (input_sizes, filters, out_backprop, ...): conv2d_args'
    bounds and filter_formats, without bias, activations and algorithms."""
    return _backprop_input_args(False, bounds)


def depthwise_conv2d_backprop_input_args(**bounds):
    """depthwise_conv2d_backprop_input calls: depthwise_conv2d_args' bounds and
    filter_formats, without bias and activations."""
    return _backprop_input_args(True, bounds)


def conv2d_backprop_filter_args(**bounds):
    """conv2d_backprop_filter calls (input, filter_sizes, out_backprop, ...), filter_sizes
    OIHW where filter_formats draws it; conv2d_args' bounds."""
    return _backprop_filter_args(False, bounds)


def depthwise_conv2d_backprop_filter_args(**bounds):
    """depthwise_conv2d_backprop_filter calls; depthwise_conv2d_args' bounds."""
    return _backprop_filter_args(True, bounds)


@st.composite
def conv2d_transpose_args(draw, *, bias=False, activations=(None,), output_padding=False, **bounds):
    """conv2d_transpose calls (input, filters, output_shape, strides, padding, ...): the
    transposed convolution of a drawn conv2d (its filters [kh, kw, output_channels /
    groups, in_channels], or PyTorch's [in_channels, output_channels / groups, kh, kw]
    under filter_formats "OIHW"); bias and activations as in conv2d_args.
    output_padding=True also draws PyTorch's way to the size, output_shape=None with
    output_padding, where it applies (one group, padding not SAME)."""
    c, f, filter_format = _draw_conv(draw, False, bounds)
    x = _array(c.rng, _forward_out(c, False), c.dtype)
    kwargs = _grad_kwargs(c, filter_format)
    out_shape: tuple | None = c.x_shape
    if output_padding and c.groups == 1 and c.win.pad_sums is not None and draw(st.booleans()):
        # the forward input size is the transposed output size plus what output_padding
        # adds back: (size + pads - eff) % stride, which is below the stride
        fmt_h, fmt_w = (1, 2) if c.fmt == "NHWC" else (2, 3)
        extra = tuple(
            (c.x_shape[a] + c.win.pad_sums[i] - (c.win.k[i] - 1) * c.win.dilation[i] - 1)
            % c.win.stride[i]
            for i, a in enumerate((fmt_h, fmt_w))
        )
        out_shape = None
        kwargs["output_padding"] = extra
    if bias:
        kwargs["bias"] = _array(c.rng, (c.f.shape[2] * c.groups,), c.dtype)
    if activations != (None,):
        kwargs["activation"] = draw(st.sampled_from(activations))
    reduction = c.win.k[0] * c.win.k[1] * (c.f.shape[3] // c.groups) + (1 if bias else 0)
    return Call(
        "conv2d_transpose",
        (x, f, out_shape, c.win.stride, c.win.padding),
        kwargs,
        reduction,
        c.seed,
    )


_GRAD_OPS = ("max_pool2d_grad", "avg_pool2d_grad", "max_pool_with_argmax")


@st.composite
def pool2d_grad_args(
    draw,
    *,
    ops=_GRAD_OPS,
    dtypes=("float32", "float64"),
    data_formats=("NHWC", "NCHW"),
    paddings=_PADDINGS,
    max_batch=2,
    max_size=11,
    max_kernel=5,
    max_stride=3,
    max_channels=9,
):
    """max_pool2d_grad (input, output, grad, ...), avg_pool2d_grad (input_sizes, grad, ...)
    and max_pool_with_argmax (input, ...; include_batch_in_index drawn) calls (`ops`), over
    pool2d_args' windows without dilation. max_pool2d_grad's output is the forward max
    pool's (fastconv.reference's: plain NumPy)."""
    bad = [op for op in ops if op not in _GRAD_OPS]
    if bad or not ops:
        raise ValueError(f"ops must be a non-empty subset of {_GRAD_OPS}, got {ops!r}")
    _check_paddings(paddings)
    op = draw(st.sampled_from(ops))
    dtype, fmt, batch, seed = _common(draw, dtypes, data_formats, max_batch)
    win = _window(draw, max_kernel, max_stride, 1, True, paddings, pool=True)
    h, w = _sizes(draw, win, max_size)
    c = draw(st.integers(1, max_channels))
    rng = np.random.default_rng(seed)
    x_shape = join_shape(batch, h, w, c, fmt)
    window = (win.k, win.stride, win.padding)
    kwargs = {"data_format": fmt, **win.kwargs}
    if op == "max_pool_with_argmax":
        if win.kwargs:  # TF's op: no pads= (ONNX's spelling); its explicit pairs instead
            (top, left, bottom, right) = win.kwargs["pads"]
            window = (win.k, win.stride, [[top, bottom], [left, right]])
        return Call(
            op,
            (_array(rng, x_shape, dtype), *window, fmt),
            {"include_batch_in_index": draw(st.booleans())},
            1,
            seed,
        )
    y_shape = output_shape("max_pool2d", x_shape, *window, fmt, **win.kwargs)
    reduction = reduction_length(op, ksize=win.k)
    if op == "avg_pool2d_grad":
        return Call(op, (x_shape, _array(rng, y_shape, dtype), *window), kwargs, reduction, seed)
    x = _array(rng, x_shape, dtype)
    y = reference.max_pool2d(x, *window, fmt, **win.kwargs)
    return Call(op, (x, y, _array(rng, y_shape, dtype), *window), kwargs, reduction, seed)
