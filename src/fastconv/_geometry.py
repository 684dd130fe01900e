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
    kernels only need ``pad_top`` / ``pad_left`` and the output size.
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


def normalize_data_format(data_format) -> str:
    if not isinstance(data_format, str) or data_format.upper() not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    return data_format.upper()


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must contain integers, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be positive, got {int(value)}")
    if value > _MAX_WINDOW:  # keeps the C side's index arithmetic far from overflow
        raise ValueError(f"{name} must be at most {_MAX_WINDOW}, got {int(value)}")
    return int(value)


def normalize_hw(value, name: str, data_format: str) -> tuple[int, int]:
    """An int, 1 or 2 values (H, W), or 4 values in data_format order with 1 at N and C."""
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


def normalize_padding(padding, data_format: str):
    """'SAME', 'VALID' (any case), or explicit ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        upper = padding.upper()
        if upper in ("SAME", "VALID"):
            return upper
        raise ValueError(f"padding must be 'SAME', 'VALID' or explicit pairs, got {padding!r}")
    form = (
        "padding must be 'SAME', 'VALID', [[top, bottom], [left, right]] or 4 pairs in "
        f"data_format order with [0, 0] for batch and channels, got {padding!r}"
    )
    try:
        pairs = [list(p) for p in padding]
    except TypeError:
        raise ValueError(form) from None
    if any(len(p) != 2 for p in pairs) or len(pairs) not in (2, 4):
        raise ValueError(form)
    for pair in pairs:
        for v in pair:
            if isinstance(v, bool) or not isinstance(v, Integral):
                raise ValueError(form)
    if len(pairs) == 4:
        n_i, h_i, w_i, c_i = _layout_indices(data_format)
        if any(int(v) != 0 for v in pairs[n_i] + pairs[c_i]):
            raise ValueError(form)
        pairs = [pairs[h_i], pairs[w_i]]
    (top, bottom), (left, right) = ((int(a), int(b)) for a, b in pairs)
    for dim, (a, b) in (("height", (top, bottom)), ("width", (left, right))):
        if a < 0 or b < 0:
            raise ValueError(f"padding for the {dim} must be non-negative, got [{a}, {b}]")
        if max(a, b) > _MAX_WINDOW:
            raise ValueError(f"padding for the {dim} must be at most {_MAX_WINDOW}, got [{a}, {b}]")
    return (top, bottom), (left, right)


def output_size(in_size: int, k: int, stride: int, dilation: int, padding) -> tuple[int, int, int]:
    """(out, pad_before, pad_after) along one dimension.

    padding is 'SAME', 'VALID' or an explicit (before, after) pair. SAME follows TF:
    out = ceil(in / s), total = max((out - 1) * s + eff_k - in, 0), the odd cell at the end.
    Where the window does not fit the padded input at all, out is 0 (an empty result, where
    TensorFlow returns garbage or crashes).
    """
    eff_k = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-in_size // stride)
        total = max((out - 1) * stride + eff_k - in_size, 0)
        before, after = total // 2, total - total // 2
        return out, before, after
    before, after = (0, 0) if padding == "VALID" else padding
    span = in_size + before + after
    out = (span - eff_k) // stride + 1 if span >= eff_k else 0
    return out, before, after


def split_shape(shape, data_format: str, name: str = "input") -> tuple[int, int, int, int]:
    """(N, H, W, C) of a 4-D array shape in data_format."""
    if len(shape) != 4:
        raise ValueError(
            f"{name} must be 4-D ({data_format}), got {len(shape)}-D with shape {tuple(shape)}"
        )
    return tuple(int(shape[i]) for i in _layout_indices(data_format))


def join_shape(n: int, h: int, w: int, c: int, data_format: str) -> tuple[int, int, int, int]:
    """An array shape in data_format from (N, H, W, C)."""
    return (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)


def nhwc_axes(data_format: str) -> tuple[int, int, int, int]:
    """Axis order that views an array of data_format as NHWC (for np.transpose)."""
    return _layout_indices(data_format)


def window(
    input_shape, k_h: int, k_w: int, strides, padding, data_format: str, dilations=1
) -> Window:
    """Resolve a sliding window over a 4-D input; strides/dilations in any accepted form."""
    n, h, w, c = split_shape(input_shape, data_format)
    stride_h, stride_w = normalize_hw(strides, "strides", data_format)
    dil_h, dil_w = normalize_hw(dilations, "dilations", data_format)
    pad = normalize_padding(padding, data_format)
    pad_h, pad_w = (pad, pad) if isinstance(pad, str) else pad
    out_h, top, bottom = output_size(h, k_h, stride_h, dil_h, pad_h)
    out_w, left, right = output_size(w, k_w, stride_w, dil_w, pad_w)
    return Window(
        n, h, w, c, k_h, k_w, stride_h, stride_w, dil_h, dil_w,
        top, bottom, left, right, out_h, out_w,
    )


@dataclass(frozen=True)
class ConvShape:
    """A convolution's window plus its channel structure."""

    win: Window
    groups: int
    out_channels: int


def conv_shape(input_shape, filter_shape, strides, padding, data_format, dilations) -> ConvShape:
    """Geometry of conv2d with an HWIO filter [kh, kw, in_channels / groups, out_channels].

    groups = C / filter in_channels (TensorFlow's rule), so grouped convolution needs no
    extra argument.
    """
    if len(filter_shape) != 4:
        raise ValueError(
            "filters must be 4-D [filter_height, filter_width, in_channels / groups, "
            f"out_channels], got shape {tuple(filter_shape)}"
        )
    k_h, k_w, c_per_group, out_c = (int(s) for s in filter_shape)
    if k_h < 1 or k_w < 1 or c_per_group < 1:
        raise ValueError(
            f"filters must have positive height, width and in_channels, got shape {tuple(filter_shape)}"
        )
    win = window(input_shape, k_h, k_w, strides, padding, data_format, dilations)
    if win.channels % c_per_group != 0:
        raise ValueError(
            f"input channels ({win.channels}) must be a multiple of the filters' in_channels "
            f"({c_per_group}, filters.shape[2])"
        )
    groups = win.channels // c_per_group
    if groups == 0 or out_c % groups != 0:
        raise ValueError(
            f"filters' out_channels ({out_c}) must be a positive multiple of the number of "
            f"groups ({groups} = input channels {win.channels} / filters.shape[2] {c_per_group})"
        )
    return ConvShape(win, groups, out_c)


def depthwise_shape(input_shape, filter_shape, strides, padding, data_format, dilations) -> ConvShape:
    """Geometry of depthwise_conv2d with a filter [kh, kw, in_channels, channel_multiplier].

    It is the grouped convolution with groups = in_channels: the same filter memory read as
    HWIO [kh, kw, 1, in_channels * multiplier], output channel c * multiplier + m.
    """
    if len(filter_shape) != 4:
        raise ValueError(
            "filter must be 4-D [filter_height, filter_width, in_channels, channel_multiplier], "
            f"got shape {tuple(filter_shape)}"
        )
    k_h, k_w, c, mult = (int(s) for s in filter_shape)
    if k_h < 1 or k_w < 1 or mult < 1:
        raise ValueError(
            f"filter must have positive height, width and channel_multiplier, got shape {tuple(filter_shape)}"
        )
    win = window(input_shape, k_h, k_w, strides, padding, data_format, dilations)
    if win.channels != c:
        raise ValueError(
            f"filter in_channels ({c}, filter.shape[2]) must equal the input channels ({win.channels})"
        )
    return ConvShape(win, c, c * mult)


def pool_window(input_shape, ksize, strides, padding, data_format) -> Window:
    """Geometry of a pooling window; explicit padding must leave a real cell in every window."""
    k_h, k_w = normalize_hw(ksize, "ksize", data_format)
    win = window(input_shape, k_h, k_w, strides, padding, data_format)
    for dim, pads, k, size in (
        ("height", (win.pad_top, win.pad_bottom), k_h, win.in_h),
        ("width", (win.pad_left, win.pad_right), k_w, win.in_w),
    ):
        if not isinstance(padding, str) and max(pads) >= k:
            raise ValueError(
                f"explicit padding for the {dim} ({list(pads)}) must be smaller than the window "
                f"({k}), or some windows would hold only padding"
            )
        if size == 0 and win.out_h * win.out_w > 0:
            raise ValueError(f"input {dim} is 0 but the padding asks for a non-empty output")
    return win
