"""Argument normalization and window geometry: the one copy of the padding arithmetic.

Every public function (fast path, reference, GPU path) resolves its arguments here,
so that all of them agree on shapes, padding splits and error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

DATA_FORMATS = ("NHWC", "NCHW")
_MAX_WINDOW = 2**31 - 1  # largest stride, dilation, window or padding accepted


@dataclass(frozen=True)
class Window:
    """Resolved geometry of one sliding-window call, in NHWC terms.

    ``pad_bottom`` / ``pad_right`` may exceed what the last window touches (SAME rounds up);
    kernels only need ``pad_top`` / ``pad_left`` and the output size. With ``ceil_mode`` the
    last window may reach past the asked-for padding: ``pad_bottom`` / ``pad_right`` include
    those cells, and ``overhang_bottom`` / ``overhang_right`` say how many they are (they are
    not padding for count_include_pad).
    """

    batch: int
    in_h: int
    in_w: int
    channels: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    out_h: int
    out_w: int
    overhang_bottom: int = 0
    overhang_right: int = 0


def normalize_data_format(data_format) -> str:
    """'NHWC' or 'NCHW' (any case); None is TF's default, NHWC."""
    if data_format is None:
        return "NHWC"
    if not isinstance(data_format, str) or data_format.upper() not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    return data_format.upper()


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must contain integers, got {value!r}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be positive, got {int(value)}")
    if value > _MAX_WINDOW:  # keeps the C side's index arithmetic far from overflow
        raise ValueError(f"{name} must be at most {_MAX_WINDOW}, got {int(value)}")
    return int(value)


def check_flag(value, name: str) -> bool:
    """A boolean switch (ceil_mode, count_include_pad): a bool, or 0 / 1 as ONNX writes it."""
    if not isinstance(value, Integral) or value not in (0, 1):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_name(name) -> None:
    """TF's `name=` (an op name in the graph): accepted and ignored. Anything but a string or
    None is a mistake, most likely a keyword-only argument (bias...) passed by position."""
    if name is not None and not isinstance(name, str):
        raise TypeError(
            f"name must be a string or None (TF's op name, ignored), got {type(name).__name__}; "
            "bias, activation, algorithm and out are keyword-only"
        )


def normalize_hw(value, name: str, data_format: str) -> tuple[int, int]:
    """An int, 1 or 2 values (H, W), or 4 values in data_format order with 1 at N and C."""
    if isinstance(value, str):
        if value.upper() in ("SAME", "VALID"):
            raise TypeError(
                f"{name} is {value!r}, a padding: the arguments go in TF's order, strides "
                "before padding, as in conv2d(input, filters, 1, 'SAME') or "
                "max_pool2d(input, 2, 2, 'SAME')"
            )
        raise TypeError(f"{name} must be an int or a sequence of 1, 2 or 4 ints, got {value!r}")
    if isinstance(value, Integral) and not isinstance(value, bool):
        values = [value]
    else:
        try:
            values = list(value)
        except TypeError:
            raise TypeError(
                f"{name} must be an int or a sequence of 1, 2 or 4 ints, got {value!r}"
            ) from None
    if len(values) == 1:
        h = w = _positive_int(values[0], name)
    elif len(values) == 2:
        h, w = (_positive_int(v, name) for v in values)
    elif len(values) == 4:
        n_i, h_i, w_i, c_i = _layout_indices(data_format)
        checked = [_positive_int(v, name) for v in values]
        if checked[n_i] != 1 or checked[c_i] != 1:
            raise ValueError(
                f"{name} with 4 values must be 1 in the batch and channel places "
                f"({data_format} order), got {values!r}"
            )
        h, w = checked[h_i], checked[w_i]
    else:
        raise ValueError(f"{name} must be an int or a sequence of 1, 2 or 4 ints, got {values!r}")
    return h, w


def _layout_indices(data_format: str) -> tuple[int, int, int, int]:
    """Axis positions of (N, H, W, C) in an array of this data_format."""
    return (0, 1, 2, 3) if data_format == "NHWC" else (0, 2, 3, 1)


# padding strings, with the mode each names: TF's SAME/VALID (PyTorch's "same"/"valid" are
# the same words, any case), ONNX's auto_pad SAME_UPPER (TF's SAME), SAME_LOWER (the odd
# cell at the start) and NOTSET (explicit ONNX `pads`, zeros when none are given).
_PADDING_NAMES = {
    "SAME": "SAME",
    "SAME_UPPER": "SAME",
    "SAME_LOWER": "SAME_LOWER",
    "VALID": "VALID",
    "NOTSET": "NOTSET",
}
_PADDING_FORMS = (
    "padding must be 'SAME', 'VALID', 'SAME_UPPER', 'SAME_LOWER' or 'NOTSET' (any case), an "
    "int or (h, w) of ints (symmetric, PyTorch), [[top, bottom], [left, right]] or 4 pairs in "
    "data_format order with [0, 0] for batch and channels (TF)"
)


def _pad_int(v) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _pairs(padding, data_format: str, pads):
    """padding given as numbers: ((top, bottom), (left, right)) before range checks."""
    if pads is not None:
        raise ValueError(
            f"pads= (ONNX's explicit padding) goes with padding='NOTSET', got padding={padding!r}"
        )
    if _pad_int(padding):  # PyTorch: one int, the same on all four sides
        return (padding, padding), (padding, padding)
    form = f"{_PADDING_FORMS}, got {padding!r}"
    try:
        items = list(padding)
    except TypeError:
        raise ValueError(form) from None
    if len(items) == 2 and all(_pad_int(v) for v in items):  # PyTorch (h, w): symmetric
        return (items[0], items[0]), (items[1], items[1])
    if len(items) == 4 and all(_pad_int(v) for v in items):
        raise ValueError(
            f"padding {padding!r} is 4 ints, which frameworks order differently: write "
            "[[top, bottom], [left, right]] (TF), or padding='NOTSET', pads=[top, left, "
            "bottom, right] (ONNX)"
        )
    try:
        pairs = [list(p) for p in items]
    except TypeError:
        raise ValueError(form) from None
    if any(len(p) != 2 for p in pairs) or len(pairs) not in (2, 4):
        raise ValueError(form)
    if not all(_pad_int(v) for pair in pairs for v in pair):
        raise ValueError(form)
    if len(pairs) == 4:
        n_i, h_i, w_i, c_i = _layout_indices(data_format)
        if any(int(v) != 0 for v in pairs[n_i] + pairs[c_i]):
            raise ValueError(form)
        pairs = [pairs[h_i], pairs[w_i]]
    return tuple(tuple(p) for p in pairs)


def _onnx_pads(pads):
    """ONNX `pads` [top, left, bottom, right] (x1_begin, x2_begin, x1_end, x2_end)."""
    if pads is None:  # ONNX's default: no padding
        return (0, 0), (0, 0)
    try:
        values = list(pads)
    except TypeError:
        values = None
    if values is None or len(values) != 4 or not all(_pad_int(v) for v in values):
        raise ValueError(
            f"pads must be 4 ints [top, left, bottom, right] (ONNX order), got {pads!r}"
        )
    top, left, bottom, right = values
    return (top, bottom), (left, right)


def normalize_padding(padding, data_format: str, pads=None):
    """'SAME', 'SAME_LOWER', 'VALID', or explicit ((top, bottom), (left, right)).

    Each spelling and the framework it mirrors:
      'SAME' / 'same' / 'SAME_UPPER'  TF SAME, PyTorch padding='same', ONNX auto_pad SAME_UPPER:
                                      the odd cell of padding at the bottom/right;
      'SAME_LOWER'                    ONNX auto_pad SAME_LOWER: the odd cell at the top/left;
      'VALID' / 'valid'               no padding (TF, PyTorch, ONNX);
      'NOTSET' with pads=[t, l, b, r] ONNX auto_pad NOTSET and its pads (begin values, then
                                      end values; no pads: zeros);
      p or (ph, pw)                   PyTorch's int padding: p (ph, pw) cells on both sides;
      [[t, b], [l, r]], 4 pairs       TF's explicit padding (4 pairs in data_format order).
    A flat list of 4 ints is rejected: TF-style and ONNX-style readers order it differently.
    """
    if isinstance(padding, str):
        mode = _PADDING_NAMES.get(padding.upper())
        if mode is None:
            raise ValueError(f"{_PADDING_FORMS}, got {padding!r}")
        if mode != "NOTSET":
            if pads is not None:
                raise ValueError(
                    f"pads= (ONNX's explicit padding) goes with padding='NOTSET', "
                    f"got padding={padding!r}"
                )
            return mode
        pairs = _onnx_pads(pads)
    else:
        pairs = _pairs(padding, data_format, pads)
    (top, bottom), (left, right) = ((int(a), int(b)) for a, b in pairs)
    for dim, (a, b) in (("height", (top, bottom)), ("width", (left, right))):
        if a < 0 or b < 0:
            raise ValueError(f"padding for the {dim} must be non-negative, got [{a}, {b}]")
        if max(a, b) > _MAX_WINDOW:
            raise ValueError(f"padding for the {dim} must be at most {_MAX_WINDOW}, got [{a}, {b}]")
    return (top, bottom), (left, right)


def effective_window(k: int, dilation: int) -> int:
    """The input cells one window spans: (k - 1) * dilation + 1."""
    return (k - 1) * dilation + 1


def output_size(
    in_size: int, k: int, stride: int, dilation: int, padding, ceil_mode: bool = False
) -> tuple[int, int, int]:
    """(out, pad_before, pad_after) along one dimension.

    padding is 'SAME', 'SAME_LOWER', 'VALID' or an explicit (before, after) pair. SAME follows
    TF: out = ceil(in / s), total = max((out - 1) * s + eff_k - in, 0), the odd cell at the
    end (SAME_LOWER: at the start, as ONNX). Otherwise out = floor((in + before + after -
    eff_k) / s) + 1, which is 0 where the padded input is at most a stride short of the window
    and negative where it is shorter still (returned as is: `window` decides whether that is
    an error). ceil_mode rounds up instead, as PyTorch and ONNX do, and drops a last window
    that would start past the input and the before-padding (PyTorch's rule, ONNX's since
    opset 19); pad_after then grows by the cells that window reaches past the padding.
    """
    eff_k = effective_window(k, dilation)
    if padding in ("SAME", "SAME_LOWER"):
        out = -(-in_size // stride)
        total = max((out - 1) * stride + eff_k - in_size, 0)
        small, big = total // 2, total - total // 2
        return (out, small, big) if padding == "SAME" else (out, big, small)
    before, after = (0, 0) if padding == "VALID" else padding
    span = in_size + before + after - eff_k
    if not ceil_mode:
        return span // stride + 1, before, after
    out = -(-span // stride) + 1
    if (out - 1) * stride >= in_size + before:
        out -= 1
    return out, before, max(after, (out - 1) * stride + eff_k - in_size - before)


def _check_fits(
    dim: str, size: int, k: int, stride: int, dilation: int, before: int, after: int, out: int
) -> None:
    """A negative output size is an error, as in TF ("Computed output size would be
    negative") and PyTorch ("Kernel size can't be greater than actual input size")."""
    if out >= 0:
        return
    eff_k = effective_window(k, dilation)
    raise ValueError(
        f"the window does not fit the input {dim}: input {dim} {size} + padding "
        f"{before} + {after} = {size + before + after} is shorter than the effective window "
        f"{eff_k} = ({k} - 1) * dilation {dilation} + 1, by more than the stride {stride} "
        f"(the output {dim} would be {out}); use padding='SAME', a smaller window or a "
        "larger input"
    )


def split_shape(shape, data_format: str, name: str = "input") -> tuple[int, int, int, int]:
    """(N, H, W, C) of a 4-D array shape in data_format."""
    if len(shape) != 4:
        raise ValueError(
            f"{name} must be 4-D ({data_format}), got {len(shape)}-D with shape {tuple(shape)}"
        )
    n, h, w, c = (int(shape[i]) for i in _layout_indices(data_format))
    return n, h, w, c


def join_shape(n: int, h: int, w: int, c: int, data_format: str) -> tuple[int, int, int, int]:
    """An array shape in data_format from (N, H, W, C)."""
    return (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)


def nhwc_axes(data_format: str) -> tuple[int, int, int, int]:
    """Axis order that views an array of data_format as NHWC (for np.transpose)."""
    return _layout_indices(data_format)


def window(
    input_shape,
    k_h: int,
    k_w: int,
    strides,
    padding,
    data_format: str,
    dilations=1,
    *,
    pads=None,
    ceil_mode: bool = False,
) -> Window:
    """Resolve a sliding window over a 4-D input; strides/dilations in any accepted form
    (dilations None: TF's default, 1); padding and pads as `normalize_padding` reads them.

    A window that does not fit a non-empty input (a negative output size) is a ValueError;
    an output size of exactly 0 (the padded input one to `stride` cells short of the
    window) and any empty input give an empty result.
    """
    n, h, w, c = split_shape(input_shape, data_format)
    stride_h, stride_w = normalize_hw(strides, "strides", data_format)
    dil_h, dil_w = normalize_hw(1 if dilations is None else dilations, "dilations", data_format)
    pad = normalize_padding(padding, data_format, pads)
    pad_h, pad_w = (pad, pad) if isinstance(pad, str) else pad
    out_h, top, bottom = output_size(h, k_h, stride_h, dil_h, pad_h, ceil_mode)
    out_w, left, right = output_size(w, k_w, stride_w, dil_w, pad_w, ceil_mode)
    if n and h and w and c:  # an empty input gives an empty result, whatever the window
        _check_fits("height", h, k_h, stride_h, dil_h, top, bottom, out_h)
        _check_fits("width", w, k_w, stride_w, dil_w, left, right, out_w)
    out_h, out_w = max(out_h, 0), max(out_w, 0)
    overhang_h = bottom - pad_h[1] if isinstance(pad_h, tuple) else 0
    overhang_w = right - pad_w[1] if isinstance(pad_w, tuple) else 0
    return Window(
        n,
        h,
        w,
        c,
        k_h,
        k_w,
        stride_h,
        stride_w,
        dil_h,
        dil_w,
        top,
        bottom,
        left,
        right,
        out_h,
        out_w,
        overhang_h,
        overhang_w,
    )


def _conv_groups_ok(channels: int, c_per_group: int, out_c: int) -> bool:
    return channels > 0 and channels % c_per_group == 0 and out_c % (channels // c_per_group) == 0


def _layout_hint(input_shape, data_format: str, fits) -> str:
    """A hint for a channel mismatch that the other data_format would resolve (an NCHW
    array passed without data_format="NCHW", most often); empty when it would not."""
    other = "NCHW" if data_format == "NHWC" else "NHWC"
    channels = split_shape(input_shape, other)[3]
    if not fits(channels):
        return ""
    return (
        f"; the input {tuple(input_shape)} has {channels} channels if it is {other}: "
        f'pass data_format="{other}"'
    )


@dataclass(frozen=True)
class ConvShape:
    """A convolution's window plus its channel structure."""

    win: Window
    groups: int
    out_channels: int


FILTER_FORMATS = ("HWIO", "OIHW")
# OIHW [out, in / groups, kh, kw] (PyTorch, ONNX) read as HWIO: np.transpose's axes
OIHW_TO_HWIO = (2, 3, 1, 0)


def normalize_filter_format(filter_format) -> str:
    """'HWIO' (TF) or 'OIHW' (PyTorch, ONNX), any case; None: HWIO."""
    if filter_format is None:
        return "HWIO"
    if not isinstance(filter_format, str) or filter_format.upper() not in FILTER_FORMATS:
        raise ValueError(f"filter_format must be 'HWIO' or 'OIHW', got {filter_format!r}")
    return filter_format.upper()


def conv_shape(
    input_shape,
    filter_shape,
    strides,
    padding,
    data_format,
    dilations,
    *,
    filter_format: str = "HWIO",
    pads=None,
) -> ConvShape:
    """Geometry of conv2d with an HWIO filter [kh, kw, in_channels / groups, out_channels]
    or an OIHW one [out_channels, in_channels / groups, kh, kw] (filter_format, normalized).

    groups = C / filter in_channels (TensorFlow's rule, and PyTorch's weight shape), so
    grouped convolution needs no extra argument.
    """
    layout = (
        "[filter_height, filter_width, in_channels / groups, out_channels]"
        if filter_format == "HWIO"
        else "[out_channels, in_channels / groups, filter_height, filter_width] (OIHW)"
    )
    if len(filter_shape) != 4:
        raise ValueError(f"filters must be 4-D {layout}, got shape {tuple(filter_shape)}")
    if filter_format == "OIHW":
        filter_shape = tuple(filter_shape[a] for a in OIHW_TO_HWIO)
    k_h, k_w, c_per_group, out_c = (int(s) for s in filter_shape)
    if k_h < 1 or k_w < 1 or c_per_group < 1:
        raise ValueError(
            f"filters must have positive height, width and in_channels, got shape {tuple(filter_shape)} "
            "(HWIO)"
        )
    # Channels before the window: an NCHW input read as NHWC fails here, with a hint, rather
    # than on a window that does not fit its "height" of 3 channels.
    channels = split_shape(input_shape, data_format)[3]

    def hint():  # built only for an error
        return _layout_hint(
            input_shape, data_format, lambda c: _conv_groups_ok(c, c_per_group, out_c)
        )

    if channels % c_per_group != 0:
        raise ValueError(
            f"input channels ({channels}) must be a multiple of the filters' in_channels "
            f"({c_per_group}, filters.shape[{2 if filter_format == 'HWIO' else 1}])" + hint()
        )
    groups = channels // c_per_group
    if groups == 0 or out_c % groups != 0:
        raise ValueError(
            f"filters' out_channels ({out_c}) must be a positive multiple of the number of "
            f"groups ({groups} = input channels {channels} / filters' in_channels {c_per_group})"
            + hint()
        )
    win = window(input_shape, k_h, k_w, strides, padding, data_format, dilations, pads=pads)
    return ConvShape(win, groups, out_c)


def depthwise_shape(
    input_shape,
    filter_shape,
    strides,
    padding,
    data_format,
    dilations,
    *,
    pads=None,
    filter_format: str = "HWIO",
) -> ConvShape:
    """Geometry of depthwise_conv2d with a filter [kh, kw, in_channels, channel_multiplier],
    or with filter_format "OIHW" (normalized) PyTorch's depthwise weight [in_channels *
    multiplier, 1, kh, kw] (conv2d with groups = in_channels; ONNX Conv with group = C).

    It is the grouped convolution with groups = in_channels: the same filter memory read as
    HWIO [kh, kw, 1, in_channels * multiplier], output channel c * multiplier + m (an OIHW
    filter transposed by OIHW_TO_HWIO is that array).
    """
    if len(filter_shape) != 4:
        raise ValueError(
            "filter must be 4-D [filter_height, filter_width, in_channels, channel_multiplier]"
            + (
                " or, OIHW, [in_channels * multiplier, 1, filter_height, filter_width]"
                if filter_format == "OIHW"
                else ""
            )
            + f", got shape {tuple(filter_shape)}"
        )
    if filter_format == "OIHW":
        filter_shape = _depthwise_oihw_as_hwio(
            tuple(int(s) for s in filter_shape), split_shape(input_shape, data_format)[3]
        )
    k_h, k_w, c, mult = (int(s) for s in filter_shape)
    if k_h < 1 or k_w < 1 or mult < 1:
        raise ValueError(
            f"filter must have positive height, width and channel_multiplier, got shape {tuple(filter_shape)}"
        )
    channels = split_shape(input_shape, data_format)[3]
    if channels != c:
        raise ValueError(
            f"filter in_channels ({c}, filter.shape[2]) must equal the input channels ({channels})"
            + _layout_hint(input_shape, data_format, lambda other: other == c)
        )
    win = window(input_shape, k_h, k_w, strides, padding, data_format, dilations, pads=pads)
    return ConvShape(win, c, c * mult)


def _depthwise_oihw_as_hwio(shape, channels: int) -> tuple[int, int, int, int]:
    """PyTorch's depthwise weight shape [C * M, 1, kh, kw] as depthwise_conv2d's [kh, kw,
    C, M], for an input of `channels` = C channels."""
    out_c, one, k_h, k_w = shape
    if one != 1 or channels < 1 or out_c < 1 or out_c % channels:
        raise ValueError(
            f"an OIHW depthwise filter must be [in_channels * multiplier, 1, filter_height, "
            f"filter_width] (PyTorch's conv2d weight with groups = in_channels = {channels}), "
            f"got shape {shape}"
        )
    return k_h, k_w, channels, out_c // channels


def taps_inside(out: int, stride: int, pad: int, k: int, dil: int, lo: int, hi: int):
    """For each output position along one axis: how many of its window's k taps (dil apart,
    the first at o * stride - pad) lie in [lo, hi): [0, in) counts the real cells, [-before,
    in + after) the real and padding cells. A float64 NumPy array (the averages' divisors)."""
    import numpy as np  # geometry is plain arithmetic elsewhere: NumPy only where it is used

    start = np.arange(out, dtype=np.int64) * stride - pad
    first = np.maximum(-((start - lo) // dil), 0)  # first tap at or after lo
    last = np.minimum((hi - 1 - start) // dil, k - 1)  # last tap before hi
    return np.maximum(last - first + 1, 0).astype(np.float64)


def pool_window(
    input_shape,
    ksize,
    strides,
    padding,
    data_format,
    dilations=1,
    *,
    pads=None,
    ceil_mode: bool = False,
) -> Window:
    """Geometry of a pooling window (dilations: PyTorch's and ONNX's pooling dilation;
    ceil_mode: theirs too, with explicit padding or VALID). Explicit padding must be smaller
    than the (dilated) window. A dilated window may still hold only padding, where the input
    is shorter than the dilation: max gives -inf there and avg 0 / divisor, as PyTorch."""
    ceil_mode = check_flag(ceil_mode, "ceil_mode")
    k_h, k_w = normalize_hw(ksize, "ksize", data_format)
    mode = normalize_padding(padding, data_format, pads)
    if ceil_mode and mode in ("SAME", "SAME_LOWER"):
        raise ValueError(
            f"ceil_mode=True needs explicit padding or VALID, got padding={padding!r}: SAME "
            "already rounds the output size up (ceil(in / stride)), and ONNX ignores ceil_mode "
            "under auto_pad SAME_*"
        )
    win = window(
        input_shape,
        k_h,
        k_w,
        strides,
        padding,
        data_format,
        dilations,
        pads=pads,
        ceil_mode=ceil_mode,
    )
    for dim, pads_, k, size, dil in (
        ("height", (win.pad_top, win.pad_bottom - win.overhang_bottom), k_h, win.in_h, win.dil_h),
        ("width", (win.pad_left, win.pad_right - win.overhang_right), k_w, win.in_w, win.dil_w),
    ):
        eff_k = (k - 1) * dil + 1
        if not isinstance(mode, str) and max(pads_) >= eff_k:
            raise ValueError(
                f"explicit padding for the {dim} ({list(pads_)}) must be smaller than the window "
                f"({eff_k}), or some windows would hold only padding"
            )
        if size == 0 and win.out_h * win.out_w > 0:
            raise ValueError(f"input {dim} is 0 but the padding asks for a non-empty output")
    return win


def argmax_window(
    input_shape,
    ksize,
    strides,
    padding,
    data_format,
    dilations=1,
    *,
    pads=None,
    ceil_mode: bool = False,
    index_format="tf",
    include_batch_in_index=False,
    storage_order=0,
) -> tuple[Window, tuple]:
    """max_pool2d(return_argmax=True)'s window and index strides (argmax_index_strides).
    A dilated window can hold padding only (an input shorter than the dilation): it has no
    winner to index, so such a call is refused (its max would be -inf)."""
    win = pool_window(
        input_shape, ksize, strides, padding, data_format, dilations, pads=pads, ceil_mode=ceil_mode
    )
    if win.batch and win.channels and (win.dil_h > 1 or win.dil_w > 1):
        for dim, args in (
            ("row", (win.out_h, win.stride_h, win.pad_top, win.k_h, win.dil_h, 0, win.in_h)),
            ("column", (win.out_w, win.stride_w, win.pad_left, win.k_w, win.dil_w, 0, win.in_w)),
        ):
            empty = (taps_inside(*args) == 0).nonzero()[0]
            if empty.size:
                raise ValueError(
                    f"return_argmax=True: the window of output {dim} {int(empty[0])} holds "
                    "padding only (the dilation steps over the input), so it has no winner "
                    "to index; use less padding or dilation"
                )
    return win, argmax_index_strides(
        win,
        data_format,
        index_format,
        include_batch_in_index=include_batch_in_index,
        storage_order=storage_order,
    )


def pool_divisors(win: Window, count_include_pad: bool):
    """avg_pool's divisor per output row and per output column (float64 arrays; a window's
    divisor is their product): the real cells (TF; PyTorch and ONNX count_include_pad=False),
    or with count_include_pad the cells inside the padded input, as PyTorch and ONNX count
    them: the asked-for padding counts, cells that a ceil_mode window reaches past it do not.
    """
    rows = taps_inside(
        win.out_h,
        win.stride_h,
        win.pad_top,
        win.k_h,
        win.dil_h,
        -win.pad_top if count_include_pad else 0,
        win.in_h + (win.pad_bottom - win.overhang_bottom if count_include_pad else 0),
    )
    cols = taps_inside(
        win.out_w,
        win.stride_w,
        win.pad_left,
        win.k_w,
        win.dil_w,
        -win.pad_left if count_include_pad else 0,
        win.in_w + (win.pad_right - win.overhang_right if count_include_pad else 0),
    )
    return rows, cols


def sizes_arg(value, name: str) -> tuple[int, int, int, int]:
    """A shape given as data: TF's `input_sizes` / `filter_sizes` (a 1-D vector of 4
    non-negative integers; an int32 tensor in TF, any sequence or integer array here)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a sequence of 4 integers, got {value!r}")
    try:
        values = [v.item() if hasattr(v, "item") else v for v in value]
    except TypeError:
        raise TypeError(f"{name} must be a sequence of 4 integers, got {value!r}") from None
    if len(values) != 4:
        raise ValueError(f"{name} must have 4 elements, got {len(values)}: {values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, Integral):
            raise TypeError(f"{name} must contain integers, got {values!r}")
        if v < 0:
            raise ValueError(f"{name} must be non-negative, got {values!r}")
    a, b, c, d = (int(v) for v in values)
    return a, b, c, d


def check_forward_output(
    win: Window, out_channels: int, got_shape, data_format: str, name: str
) -> None:
    """An array a gradient op takes in the forward op's output shape (its incoming gradient,
    max_pool2d_grad's output) must have it: the batch, the output height and width this
    window gives, and out_channels."""
    expected = join_shape(win.batch, win.out_h, win.out_w, out_channels, data_format)
    if tuple(int(s) for s in got_shape) != expected:
        raise ValueError(
            f"{name} has shape {tuple(got_shape)}, but the forward op's output for "
            f"input [N, H, W, C] = {[win.batch, win.in_h, win.in_w, win.channels]} "
            f"({data_format}) with this window, strides and padding has shape {expected}"
        )


def check_out_backprop(
    shape: ConvShape, out_backprop_shape, data_format: str, name: str = "out_backprop"
) -> None:
    """A gradient op's incoming gradient must have the forward op's output shape: the
    batch, the output height and width this geometry gives, and out_channels."""
    check_forward_output(shape.win, shape.out_channels, out_backprop_shape, data_format, name)


def flat_index_strides(win: Window, data_format: str, include_batch: bool) -> tuple[int, ...]:
    """What an input cell (n, y, x, c) adds to its index in the flattened input of
    data_format, per unit of n, y, x and c (NHWC: TF's ((n * H + y) * W + x) * C + c);
    without the batch (include_batch False, TF's default) the index is within the image."""
    h, w, c = win.in_h, win.in_w, win.channels
    image = h * w * c if include_batch else 0
    if data_format == "NHWC":
        return (image, w * c, c, 1)
    return (image, w, 1, h * w)


INDEX_FORMATS = ("tf", "torch", "onnx")


def argmax_index_strides(
    win: Window, data_format: str, index_format, *, include_batch_in_index=False, storage_order=0
) -> tuple[int, ...]:
    """max_pool2d(return_argmax=True)'s index of the winning input cell (n, y, x, c), as
    what each unit of n, y, x and c adds to it, in the framework convention index_format:
      "tf"     tf.nn.max_pool_with_argmax: the cell in the flattened input of data_format
               (NHWC: ((n * H + y) * W + x) * C + c), n counted with include_batch_in_index;
      "torch"  max_pool2d(return_indices=True): y * W + x within the (n, c) plane;
      "onnx"   MaxPool's Indices: the flattened NCHW input, ((n * C + c) * H + y) * W + x, or
               with storage_order=1 (column-major planes) ((n * C + c) * W + x) * H + y.
    """
    if index_format not in INDEX_FORMATS:
        raise ValueError(f"index_format must be one of {INDEX_FORMATS}, got {index_format!r}")
    check_flag(include_batch_in_index, "include_batch_in_index")
    if include_batch_in_index and index_format != "tf":
        raise ValueError(
            f"include_batch_in_index goes with index_format='tf' (TF's "
            f"option), got index_format={index_format!r}"
        )
    if storage_order not in (0, 1) or isinstance(storage_order, bool):
        raise ValueError(
            f"storage_order must be 0 (row-major) or 1 (column-major), got {storage_order!r}"
        )
    if storage_order and index_format != "onnx":
        raise ValueError(
            f"storage_order goes with index_format='onnx' (ONNX MaxPool's "
            f"attribute), got index_format={index_format!r}"
        )
    h, w, c = win.in_h, win.in_w, win.channels
    if index_format == "tf":
        return flat_index_strides(win, data_format, bool(include_batch_in_index))
    if index_format == "torch":
        return (0, w, 1, 0)
    return (c * h * w, 1, h, h * w) if storage_order else (c * h * w, w, 1, h * w)


def output_padding_arg(value, stride: tuple[int, int]) -> tuple[int, int]:
    """PyTorch's `output_padding` of a transposed convolution: an int or (h, w), each at
    least 0 and smaller than the stride of its dimension, so that the result is the
    gradient of a forward convolution whose output has the input's size. (PyTorch also
    takes values up to the dilation - 1; the forward convolution of that size has a larger
    output than the input, so there the result is no such gradient, and not accepted.)"""
    if isinstance(value, Integral) and not isinstance(value, bool):
        values = [value, value]
    else:
        try:
            values = list(value)
        except TypeError:
            raise TypeError(f"output_padding must be an int or (h, w), got {value!r}") from None
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, Integral) for v in values):
        raise TypeError(f"output_padding must be an int or (h, w), got {value!r}")
    for dim, v, s in zip(("height", "width"), (int(v) for v in values), stride):
        if not 0 <= v < s:
            raise ValueError(
                f"output_padding for the {dim} must be in [0, stride {s}), got {int(v)}"
            )
    return int(values[0]), int(values[1])


def transposed_output_size(
    in_size: int, k: int, stride: int, dilation: int, padding, extra: int
) -> int:
    """PyTorch's conv_transpose2d output size along one dimension, for VALID or an explicit
    (before, after) pair: (in - 1) * stride - before - after + (k - 1) * dilation + 1 +
    output_padding, the smallest forward input size whose output size is `in_size`, plus
    `extra`. SAME has no such size (its padding depends on the size sought)."""
    before, after = (0, 0) if padding == "VALID" else padding
    return (in_size - 1) * stride - before - after + effective_window(k, dilation) + extra


def transposed_output_shape(
    input_shape, filter_shape, strides, padding, data_format, dilations, output_padding, pads=None
) -> tuple[int, int, int, int]:
    """conv2d_transpose's output shape when output_shape is None (PyTorch's convention):
    batch from the input, channels filters.shape[2] (one group: a grouped transposed
    convolution needs output_shape, whose channels give the groups), height and width from
    transposed_output_size."""
    n, h, w, _ = split_shape(input_shape, data_format)
    if len(filter_shape) != 4:
        raise ValueError(
            "filters must be 4-D [filter_height, filter_width, output_channels / groups, "
            f"in_channels], got shape {tuple(filter_shape)}"
        )
    k_h, k_w, out_per_group, _ = (int(s) for s in filter_shape)
    pad = normalize_padding(padding, data_format, pads)
    if pad in ("SAME", "SAME_LOWER"):
        raise ValueError(
            "output_shape=None needs padding 'VALID' or explicit pairs (PyTorch's "
            "convention); with 'SAME' pass output_shape, as tf.nn.conv2d_transpose requires"
        )
    pad_h, pad_w = (pad, pad) if isinstance(pad, str) else pad
    stride_h, stride_w = normalize_hw(strides, "strides", data_format)
    dil_h, dil_w = normalize_hw(1 if dilations is None else dilations, "dilations", data_format)
    extra_h, extra_w = output_padding_arg(output_padding, (stride_h, stride_w))
    out_h = transposed_output_size(h, k_h, stride_h, dil_h, pad_h, extra_h)
    out_w = transposed_output_size(w, k_w, stride_w, dil_w, pad_w, extra_w)
    if out_h < 0 or out_w < 0:
        raise ValueError(
            f"the padding leaves a negative output size ({out_h} x {out_w}) for input "
            f"{tuple(input_shape)} and filters {tuple(filter_shape)}"
        )
    return join_shape(n, out_h, out_w, out_per_group, data_format)


def transpose_sizes(
    output_shape,
    input_shape,
    filter_shape,
    strides,
    padding,
    data_format,
    dilations,
    output_padding,
    pads=None,
) -> tuple[int, int, int, int]:
    """conv2d_transpose's result shape: output_shape (TF's way), or from output_padding
    with output_shape None (PyTorch's way, transposed_output_shape)."""
    if output_shape is None:
        return transposed_output_shape(
            input_shape,
            filter_shape,
            strides,
            padding,
            data_format,
            dilations,
            0 if output_padding is None else output_padding,
            pads,
        )
    if output_padding is not None:
        raise ValueError(
            "output_padding is PyTorch's way to choose the output size: pass it "
            "with output_shape=None, or pass output_shape alone"
        )
    return sizes_arg(output_shape, "output_shape")
