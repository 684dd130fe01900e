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
    Otherwise out = floor((in + before + after - eff_k) / s) + 1, which is 0 where the padded
    input is at most a stride short of the window and negative where it is shorter still
    (returned as is: `window` decides whether that is an error).
    """
    eff_k = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-in_size // stride)
        total = max((out - 1) * stride + eff_k - in_size, 0)
        before, after = total // 2, total - total // 2
        return out, before, after
    before, after = (0, 0) if padding == "VALID" else padding
    out = (in_size + before + after - eff_k) // stride + 1
    return out, before, after


def _check_fits(dim: str, size: int, k: int, stride: int, dilation: int,
                before: int, after: int, out: int) -> None:
    """A negative output size is an error, as in TF ("Computed output size would be
    negative") and PyTorch ("Kernel size can't be greater than actual input size")."""
    if out >= 0:
        return
    eff_k = (k - 1) * dilation + 1
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
    input_shape, k_h: int, k_w: int, strides, padding, data_format: str, dilations=1
) -> Window:
    """Resolve a sliding window over a 4-D input; strides/dilations in any accepted form
    (dilations None: TF's default, 1).

    A window that does not fit a non-empty input (a negative output size) is a ValueError;
    an output size of exactly 0 (the padded input one to `stride` cells short of the
    window) and any empty input give an empty result.
    """
    n, h, w, c = split_shape(input_shape, data_format)
    stride_h, stride_w = normalize_hw(strides, "strides", data_format)
    dil_h, dil_w = normalize_hw(1 if dilations is None else dilations, "dilations", data_format)
    pad = normalize_padding(padding, data_format)
    pad_h, pad_w = (pad, pad) if isinstance(pad, str) else pad
    out_h, top, bottom = output_size(h, k_h, stride_h, dil_h, pad_h)
    out_w, left, right = output_size(w, k_w, stride_w, dil_w, pad_w)
    if n and h and w and c:  # an empty input gives an empty result, whatever the window
        _check_fits("height", h, k_h, stride_h, dil_h, top, bottom, out_h)
        _check_fits("width", w, k_w, stride_w, dil_w, left, right, out_w)
    out_h, out_w = max(out_h, 0), max(out_w, 0)
    return Window(
        n, h, w, c, k_h, k_w, stride_h, stride_w, dil_h, dil_w,
        top, bottom, left, right, out_h, out_w,
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
    return (f"; the input {tuple(input_shape)} has {channels} channels if it is {other}: "
            f'pass data_format="{other}"')


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
    # Channels before the window: an NCHW input read as NHWC fails here, with a hint, rather
    # than on a window that does not fit its "height" of 3 channels.
    channels = split_shape(input_shape, data_format)[3]
    def hint():  # built only for an error
        return _layout_hint(input_shape, data_format, lambda c: _conv_groups_ok(c, c_per_group, out_c))

    if channels % c_per_group != 0:
        raise ValueError(
            f"input channels ({channels}) must be a multiple of the filters' in_channels "
            f"({c_per_group}, filters.shape[2])" + hint()
        )
    groups = channels // c_per_group
    if groups == 0 or out_c % groups != 0:
        raise ValueError(
            f"filters' out_channels ({out_c}) must be a positive multiple of the number of "
            f"groups ({groups} = input channels {channels} / filters.shape[2] {c_per_group})"
            + hint()
        )
    win = window(input_shape, k_h, k_w, strides, padding, data_format, dilations)
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
    channels = split_shape(input_shape, data_format)[3]
    if channels != c:
        raise ValueError(
            f"filter in_channels ({c}, filter.shape[2]) must equal the input channels ({channels})"
            + _layout_hint(input_shape, data_format, lambda other: other == c)
        )
    win = window(input_shape, k_h, k_w, strides, padding, data_format, dilations)
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


def check_out_backprop(shape: ConvShape, out_backprop_shape, data_format: str,
                       name: str = "out_backprop") -> None:
    """A gradient op's incoming gradient must have the forward op's output shape: the
    batch, the output height and width this geometry gives, and out_channels."""
    win = shape.win
    expected = join_shape(win.batch, win.out_h, win.out_w, shape.out_channels, data_format)
    if tuple(int(s) for s in out_backprop_shape) != expected:
        raise ValueError(
            f"{name} has shape {tuple(out_backprop_shape)}, but the forward op's output for "
            f"input [N, H, W, C] = {[win.batch, win.in_h, win.in_w, win.channels]} "
            f"({data_format}) with this window, strides and padding has shape {expected}"
        )
