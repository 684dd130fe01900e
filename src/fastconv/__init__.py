"""fastconv: fast CPU convolutions and pooling for NumPy, with the arguments and results of
tf.nn.conv2d, depthwise_conv2d, max_pool2d and avg_pool2d.

All functions compute cross-correlation (no kernel flip), like every deep-learning framework.
``fastconv.reference`` holds plain-NumPy versions of the same functions for use as a test
oracle, and ``fastconv.testing`` the tolerances, assertions and hypothesis strategies to use
it with; both work without the compiled extension.
"""

from importlib.metadata import PackageNotFoundError, version

# Pure Python and NumPy: importable without the compiled extension (a source checkout that
# was never built, a platform without a wheel), so the oracle always works.
from . import reference, testing

# The fast path. _openmp comes first: it loads _core with the OpenMP settings libgomp reads
# once, as it is loaded (so it happens at `import fastconv`, as before, when the extension
# is there). Without the extension the names below raise an ImportError saying why when
# used, instead of `import fastconv.reference` failing.
__all__ = [
    "__version__",
    "reference",
    "testing",
    "Conv2D",
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
_FAST_PATH = frozenset(__all__) - {"__version__", "reference", "testing"}
_CORE_ERROR: ImportError | None = None
try:
    from . import _openmp  # noqa: F401
except ImportError as _error:
    _CORE_ERROR = _error

    def __getattr__(name):
        if name in _FAST_PATH:
            raise ImportError(
                f"fastconv.{name} needs the compiled extension fastconv._core, which could not "
                f"be imported ({_CORE_ERROR}); build it with `pip install .` (a C compiler is "
                "needed). fastconv.reference and fastconv.testing work without it."
            ) from _CORE_ERROR
        raise AttributeError(f"module 'fastconv' has no attribute {name!r}")
else:
    from . import _isa  # noqa: F401  (warns about a FASTCONV_ISA value that is ignored)
    from .conv import conv2d, conv2d_algorithm, depthwise_conv2d
    from .layer import Conv2D
    from .conv_backprop_input import (
        conv2d_backprop_input,
        conv2d_transpose,
        depthwise_conv2d_backprop_input,
    )
    from .conv_backprop_filter import conv2d_backprop_filter, depthwise_conv2d_backprop_filter
    from .pool import avg_pool2d, max_pool2d
    from .pool_grad import avg_pool2d_grad, max_pool2d_grad, max_pool_with_argmax
    from ._threads import get_num_threads, set_num_threads

try:
    __version__ = version("fastconv")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"
