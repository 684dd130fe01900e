"""fastconv.testing: use fastconv (or its plain-NumPy reference) as the oracle in your tests.

- assert_allclose(actual, desired, *, reduction=n | ulp=u, dtype=None): a comparison whose
  tolerance grows with the length n of the sums behind each value (tolerance(dtype, n)),
  or a bound in ulps; NaN and Inf must match exactly; a failure names the worst element.
- tolerance(dtype, n), reduction_length(op, filters, ksize=...): the rule and its n.
- output_shape(op, input_shape, ...): the result's shape of any op, from its arguments.
- conv2d_args(), depthwise_conv2d_args(), pool2d_args(): hypothesis strategies drawing
  valid calls, in TF's, PyTorch's or ONNX's conventions (hypothesis is optional:
  `pip install fastconv[testing]`); the gradients' strategies, conv2d_backprop_input_args(),
  conv2d_backprop_filter_args(), conv2d_transpose_args(),
  depthwise_conv2d_backprop_input_args(), depthwise_conv2d_backprop_filter_args() and
  pool2d_grad_args(), draw the forward call with the same bounds and switches. A new op
  gets a rule in REDUCTION_RULES and a strategy next to these.

None of this needs the compiled extension. The measurements behind the tolerance rule are in
docs/testing.md; the non-finite contract every op follows is in docs/non-finite.md.
"""

from __future__ import annotations

from ._shapes import output_shape

# REDUCTION_RULES: the extension point for new ops' reduction lengths (not in __all__)
from ._tolerance import REDUCTION_RULES, assert_allclose, reduction_length, tolerance  # noqa: F401

__all__ = [
    "assert_allclose",
    "conv2d_args",
    "conv2d_backprop_filter_args",
    "conv2d_backprop_input_args",
    "conv2d_transpose_args",
    "depthwise_conv2d_args",
    "depthwise_conv2d_backprop_filter_args",
    "depthwise_conv2d_backprop_input_args",
    "output_shape",
    "pool2d_args",
    "pool2d_grad_args",
    "reduction_length",
    "tolerance",
]


def _load_strategies():
    """The strategies module, imported on first use: hypothesis is optional."""
    try:
        from . import _hypothesis as module
    except ModuleNotFoundError as error:
        if error.name != "hypothesis":
            raise
        raise ImportError(
            "fastconv.testing's strategies need hypothesis: pip install 'fastconv[testing]' "
            "(or pip install hypothesis)"
        ) from error
    return module


def conv2d_args(**bounds):
    """A hypothesis strategy of valid conv2d calls (a Call: .run(fastconv), .reduction).
    Keyword bounds: dtypes, data_formats, paddings (a subset of PADDING_KINDS: "SAME",
    "VALID", "explicit" (TF's pairs), "SAME_LOWER", "onnx" (NOTSET + pads), "torch"
    (symmetric ints); default TF's three), filter_formats ("HWIO", "OIHW"), max_batch,
    max_size, max_kernel, max_stride, max_dilation, dilation_with_stride, max_groups,
    max_channels_per_group, max_out_per_group, bias, activations, algorithms."""
    return _load_strategies().conv2d_args(**bounds)


def depthwise_conv2d_args(**bounds):
    """A hypothesis strategy of valid depthwise_conv2d calls (see conv2d_args); also
    max_channels, max_multiplier, equal_strides and filter_formats ("OIHW": PyTorch's
    depthwise weight [C * multiplier, 1, kh, kw])."""
    return _load_strategies().depthwise_conv2d_args(**bounds)


def pool2d_args(**bounds):
    """A hypothesis strategy of valid max_pool2d / avg_pool2d calls (`ops=` picks which);
    also max_dilation, ceil_mode=True and count_include_pad=True to draw those conventions."""
    return _load_strategies().pool2d_args(**bounds)


# The gradients: each draws the forward call (the bounds and switches of the forward
# strategy) and an incoming gradient of its output's shape; call.reduction is the length
# of the gradient's own sums.


def conv2d_backprop_input_args(**bounds):
    """conv2d_backprop_input calls; conv2d_args' bounds (filter_formats and paddings
    included), without bias, activations and algorithms."""
    return _load_strategies().conv2d_backprop_input_args(**bounds)


def conv2d_backprop_filter_args(**bounds):
    """conv2d_backprop_filter calls (filter_sizes OIHW where filter_formats draws it);
    conv2d_args' bounds, without bias, activations and algorithms."""
    return _load_strategies().conv2d_backprop_filter_args(**bounds)


def conv2d_transpose_args(**bounds):
    """conv2d_transpose calls: the transposed convolution of a drawn conv2d; conv2d_args'
    bounds, bias and activations, and output_padding=True to draw PyTorch's
    output_shape=None with output_padding too."""
    return _load_strategies().conv2d_transpose_args(**bounds)


def depthwise_conv2d_backprop_input_args(**bounds):
    """depthwise_conv2d_backprop_input calls; depthwise_conv2d_args' bounds."""
    return _load_strategies().depthwise_conv2d_backprop_input_args(**bounds)


def depthwise_conv2d_backprop_filter_args(**bounds):
    """depthwise_conv2d_backprop_filter calls; depthwise_conv2d_args' bounds."""
    return _load_strategies().depthwise_conv2d_backprop_filter_args(**bounds)


def pool2d_grad_args(**bounds):
    """max_pool2d_grad, avg_pool2d_grad and max_pool_with_argmax calls (`ops=` picks which);
    pool2d_args' bounds without dilation, ceil_mode and count_include_pad (the gradients
    have none)."""
    return _load_strategies().pool2d_grad_args(**bounds)
