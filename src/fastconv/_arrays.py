"""Array-side argument checks shared by every implementation (fast path, reference, GPU):
dtypes, bias, activation names and `out=`."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = (None, "relu", "relu6", "sigmoid", "tanh")

# Float dtypes the API accepts; float16 is computed in float32 and returned as float16.
_ACCEPTED = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def float_array(value, name: str, xp=np):
    """`value` as an array of an accepted float dtype in native byte order (no copy when it
    already is one; a byte-swapped array is converted)."""
    arr = xp.asarray(value)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype not in _ACCEPTED:
        raise TypeError(
            f"{name} must be float16, float32 or float64, got dtype {arr.dtype} "
            "(convert it explicitly, e.g. with .astype(np.float32))"
        )
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


def check_out(out, shape, dtype, xp=np):
    """Validate a caller's `out=` array: C-contiguous, writeable, right shape and dtype."""
    if not isinstance(out, xp.ndarray):
        raise TypeError(f"out must be a {xp.__name__}.ndarray, got {type(out).__name__}")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out must have shape {tuple(shape)}, got {tuple(out.shape)}")
    if out.dtype != dtype:
        raise ValueError(f"out must have dtype {dtype}, got {out.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    return out
