"""fastconv: fast CPU convolutions and pooling for NumPy, with the arguments and results of
tf.nn.conv2d, depthwise_conv2d, max_pool2d and avg_pool2d.

All functions compute cross-correlation (no kernel flip), like every deep-learning framework.
``fastconv.reference`` holds plain-NumPy versions of the same functions for use as a test
oracle.
"""

from importlib.metadata import PackageNotFoundError, version

from . import _openmp  # noqa: F401  (first: loads _core with the OpenMP settings it needs)
from . import _isa  # noqa: F401  (warns about a FASTCONV_ISA value that is ignored)
from .conv import conv2d, conv2d_algorithm, depthwise_conv2d
from .conv_backprop_filter import conv2d_backprop_filter, depthwise_conv2d_backprop_filter
from .conv_backprop_input import (
    conv2d_backprop_input, conv2d_transpose, depthwise_conv2d_backprop_input,
)
from .pool import avg_pool2d, max_pool2d
from .pool_grad import avg_pool2d_grad, max_pool2d_grad, max_pool_with_argmax
from ._threads import get_num_threads, set_num_threads

try:
    __version__ = version("fastconv")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "avg_pool2d",
    "avg_pool2d_grad",
    "conv2d",
    "conv2d_algorithm",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "conv2d_transpose",
    "depthwise_conv2d",
    "depthwise_conv2d_backprop_filter",
    "depthwise_conv2d_backprop_input",
    "get_num_threads",
    "max_pool2d",
    "max_pool2d_grad",
    "max_pool_with_argmax",
    "set_num_threads",
]
