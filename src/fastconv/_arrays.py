"""Array-side argument checks shared by every implementation (fast path, reference, GPU):
dtypes, bias, activation names and `out=`."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = (None, "relu", "relu6", "sigmoid", "tanh")
ALGORITHMS = ("auto", "direct", "im2col", "winograd")

# Float dtypes the API accepts; float16 is computed in float32 and returned as float16.
# A set: membership is one hash lookup on every call.
_ACCEPTED = frozenset((np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)))


def is_cupy(value) -> bool:
    """Whether `value` is a CuPy array (checked by type, without importing CuPy)."""
    kind = type(value)
    return kind is not np.ndarray and kind.__module__.startswith("cupy")


def _type_name(value) -> str:
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__name__}"


def float_array(value, name: str, xp=np):
    """`value` as an array of an accepted float dtype in native byte order, aligned for its
    elements (no copy when it already is one; a byte-swapped array is converted, a
    misaligned one copied: the kernels load whole elements and vectors of them, and a
    misaligned load is undefined behaviour in C)."""
    # The common case first (a NumPy array the kernels read as it is): tiny layers' calls
    # are mostly this kind of overhead.
    if type(value) is np.ndarray and value.dtype in _ACCEPTED and value.flags.aligned:
        return value
    if xp is np and is_cupy(value):
        raise TypeError(
            f"{name} is a CuPy array but the input is not: only a CuPy input runs on the GPU "
            f"(pass a CuPy input, or move {name} to the host with {name}.get())"
        )
    arr = xp.asarray(value)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype not in _ACCEPTED:
        raise TypeError(
            f"{name} must be float16, float32 or float64, got dtype {arr.dtype} "
            "(convert it explicitly, e.g. with .astype(np.float32))"
        )
    if xp is np and not arr.flags.aligned:
        arr = arr.copy()
    return arr


def result_dtype(*arrays) -> np.dtype:
    """The dtype of the result: numpy.result_type of the float inputs."""
    return np.result_type(*(a.dtype for a in arrays if a is not None))


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype the kernels run in: float16 is computed in float32."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def check_activation(activation):
    if activation is not None and not isinstance(activation, str):
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    name = activation.lower() if isinstance(activation, str) else None
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return name


def check_algorithm(algorithm, shape) -> None:
    """conv2d's algorithm= must be known, and "winograd" needs a shape it can run (the C
    side's rule, asked through the binding; only the fast path calls this, and it has the
    extension)."""
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    win = shape.win
    if algorithm == "winograd":
        from . import _core  # here: fastconv.reference imports this module without _core

        if _core.winograd_applies(win, shape.groups):
            return
        raise ValueError(
            'algorithm="winograd" needs a 3x3 filter, stride 1, dilation 1 and one group; got '
            f"{win.k_h}x{win.k_w}, strides ({win.stride_h}, {win.stride_w}), dilations "
            f"({win.dil_h}, {win.dil_w}), {shape.groups} group(s)"
        )


def check_bias(bias, out_channels: int, xp=np):
    """None, or a float array of shape (out_channels,)."""
    if bias is None:
        return None
    bias = float_array(bias, "bias", xp)
    if bias.shape != (out_channels,):
        raise ValueError(
            f"bias must have shape ({out_channels},) (one value per output channel), "
            f"got shape {tuple(bias.shape)}"
        )
    return bias


def writes_in_place(out, work) -> bool:
    """Whether the kernels, computing in dtype `work`, can write into a checked `out=`
    directly: it has that dtype and is aligned for it. Otherwise they write a temporary
    that is copied into `out` (a misaligned `out` is a legal NumPy array, a view into a
    byte buffer at an odd offset, say: it is served, not rejected, at the cost of a copy)."""
    return out.dtype == work and bool(out.flags.aligned)


def check_out(out, shape, dtype, xp=np):
    """Validate a caller's `out=` array: C-contiguous, writeable, right shape and dtype."""
    if not isinstance(out, xp.ndarray) or (xp is np and is_cupy(out)):
        raise TypeError(f"out must be a {xp.__name__}.ndarray, got {_type_name(out)}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out must have shape {tuple(shape)}, got {tuple(out.shape)}")
    if out.dtype != dtype:
        raise ValueError(f"out must have dtype {dtype}, got {out.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not getattr(out.flags, "writeable", True):  # CuPy arrays have no such flag
        raise ValueError("out must be writeable")
    return out
