"""The private binding (fastconv._core) checks what the C kernels would trust blindly.

The public functions hand the kernels 4-D views of one float dtype, aligned, with dense
filters and bias; the binding used to assume all that and read array dimensions and data
pointers unchecked, so any other caller (a test, a benchmark, a mistake) could crash the
process: PoolKernel.run on a 2-D array read shape[2] and shape[3] past the end of the
shape, and the kernel wrote wherever those numbers led. Now every kernel entry raises
TypeError or ValueError instead.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from fastconv import _core
from run_script import run_python


def window(k=2, stride=1, dil=1, pad=0):
    return SimpleNamespace(
        k_h=k,
        k_w=k,
        stride_h=stride,
        stride_w=stride,
        dil_h=dil,
        dil_w=dil,
        pad_top=pad,
        pad_left=pad,
    )


def misaligned(shape, dtype=np.float32):
    raw = np.zeros(int(np.prod(shape)) * np.dtype(dtype).itemsize + 9, np.uint8)
    a = raw[1 : 1 + int(np.prod(shape)) * np.dtype(dtype).itemsize].view(dtype).reshape(shape)
    assert not a.flags.aligned
    return a


def test_wrong_rank_raises_in_a_fresh_process():
    """The report's crash, in a child process. Before the checks the binding read shape[2]
    and shape[3] of a 2-D array past its 2 dimensions (numpy keeps the strides there, then
    whatever follows): (64, 64) arrays corrupted the heap ("double free or corruption",
    SIGABRT), others a segfault or a kernel error, depending on that memory."""
    result = run_python(
        """
        import numpy as np
        from types import SimpleNamespace
        from fastconv import _core
        win = SimpleNamespace(k_h=2, k_w=2, stride_h=1, stride_w=1, dil_h=1, dil_w=1,
                              pad_top=0, pad_left=0)
        for x, y in [(np.ones((4, 4), "f4"), np.ones((3, 3), "f4")),
                     (np.ones((64, 64), "f4"), np.ones((64, 64), "f4")),
                     (np.ones((4, 4), "f4"), np.ones((1, 3, 3, 1), "f4")),
                     (np.ones((1, 4, 4, 1), "f4"), np.ones((3, 3), "f4"))]:
            try:
                _core.PoolKernel(win, 0).run(x, y)
            except ValueError as e:
                print("ValueError:", e)
            else:
                raise SystemExit("no error")
    """,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"status {result.returncode}\n{result.stderr[-2000:]}"
    assert result.stdout.count("ValueError:") == 4 and "dimensions" in result.stdout


X = np.ones((1, 5, 5, 4), np.float32)


def pool(x=None, y=None, win=None, kind=0):
    x = X if x is None else x
    y = np.zeros((1, 4, 4, 4), np.float32) if y is None else y
    _core.PoolKernel(win or window(), kind).run(x, y)


def conv(x=None, w=None, bias=None, y=None, groups=1, win=None):
    x = X if x is None else x
    w = np.ones((2, 2, 4 // groups, 6), np.float32) if w is None else w
    y = np.zeros((1, 4, 4, 6), np.float32) if y is None else y
    _core.ConvDesc(win or window(), groups, 0, 0).run(x, w, bias, y)


BAD_POOL = {
    "x 2-D": (ValueError, lambda: pool(x=np.ones((5, 5), np.float32))),
    "x 5-D": (ValueError, lambda: pool(x=np.ones((1, 5, 5, 4, 1), np.float32))),
    "y 3-D": (ValueError, lambda: pool(y=np.zeros((4, 4, 4), np.float32))),
    "x None": (TypeError, lambda: _core.PoolKernel(window(), 0).run(None, X)),
    "x list": (TypeError, lambda: _core.PoolKernel(window(), 0).run(X.tolist(), X)),
    "x int": (TypeError, lambda: pool(x=np.ones((1, 5, 5, 4), np.int32))),
    "x float16": (TypeError, lambda: pool(x=np.ones((1, 5, 5, 4), np.float16))),
    "x byte-swapped": (TypeError, lambda: pool(x=X.astype(">f4"))),
    "y float64": (TypeError, lambda: pool(y=np.zeros((1, 4, 4, 4)))),
    "x misaligned": (ValueError, lambda: pool(x=misaligned((1, 5, 5, 4)))),
    "y misaligned": (ValueError, lambda: pool(y=misaligned((1, 4, 4, 4)))),
    "y read-only": (ValueError, lambda: pool(y=np.broadcast_to(np.float32(0), (1, 4, 4, 4)))),
    "x partial-element strides": (
        ValueError,
        lambda: pool(x=np.lib.stride_tricks.as_strided(X, X.shape, (400, 80, 16, 2))),
    ),
    "channels differ": (ValueError, lambda: pool(y=np.zeros((1, 4, 4, 3), np.float32))),
    "batch differs": (ValueError, lambda: pool(y=np.zeros((2, 4, 4, 4), np.float32))),
    "zero stride": (ValueError, lambda: pool(win=window(stride=0))),
    "negative padding": (ValueError, lambda: pool(win=window(pad=-1))),
    "unknown kind": (ValueError, lambda: pool(kind=7)),
}

BAD_CONV = {
    "x 2-D": (ValueError, lambda: conv(x=np.ones((5, 5), np.float32))),
    "y 1-D": (ValueError, lambda: conv(y=np.zeros(96, np.float32))),
    "filters too small": (ValueError, lambda: conv(w=np.ones((2, 2, 4, 5), np.float32))),
    "filters flat": (ValueError, lambda: conv(w=np.ones(96, np.float32))),
    "filters strided": (ValueError, lambda: conv(w=np.ones((2, 2, 4, 12), np.float32)[..., ::2])),
    "filters misaligned": (ValueError, lambda: conv(w=misaligned((2, 2, 4, 6)))),
    "filters float64": (TypeError, lambda: conv(w=np.ones((2, 2, 4, 6)))),
    "filters None": (
        TypeError,
        lambda: _core.ConvDesc(window(), 1, 0, 0).run(
            X, None, None, np.zeros((1, 4, 4, 6), np.float32)
        ),
    ),
    "bias list": (TypeError, lambda: conv(bias=[0.0] * 6)),
    "bias short": (ValueError, lambda: conv(bias=np.zeros(5, np.float32))),
    "bias 2-D": (ValueError, lambda: conv(bias=np.zeros((1, 6), np.float32))),
    "bias misaligned": (ValueError, lambda: conv(bias=misaligned((6,)))),
    "bias float64": (TypeError, lambda: conv(bias=np.zeros(6))),
    "y read-only": (ValueError, lambda: conv(y=np.broadcast_to(np.float32(0), (1, 4, 4, 6)))),
    "groups do not divide": (
        ValueError,
        lambda: conv(groups=3, w=np.ones((2, 2, 1, 6), np.float32)),
    ),
    "negative groups": (ValueError, lambda: _core.ConvDesc(window(), -1, 0, 0)),
    "zero groups": (ValueError, lambda: conv(groups=0, w=np.ones((2, 2, 4, 6), np.float32))),
    "zero kernel": (ValueError, lambda: conv(win=window(k=0))),
    "zero dilation": (ValueError, lambda: conv(win=window(dil=0))),
    "unknown activation": (ValueError, lambda: _core.ConvDesc(window(), 1, 9, 0)),
    "unknown algorithm": (ValueError, lambda: _core.ConvDesc(window(), 1, 0, -1)),
}


@pytest.mark.parametrize("case", BAD_POOL)
def test_pool_kernel_rejects(case):
    exc, call = BAD_POOL[case]
    with pytest.raises(exc):
        call()


@pytest.mark.parametrize("case", BAD_CONV)
def test_conv_desc_rejects(case):
    exc, call = BAD_CONV[case]
    with pytest.raises(exc):
        call()


def test_valid_calls_still_run():
    y = np.zeros((1, 4, 4, 4), np.float32)
    _core.PoolKernel(window(), 0).run(X, y)
    np.testing.assert_array_equal(y, 1)
    y = np.zeros((1, 4, 4, 6), np.float32)
    _core.ConvDesc(window(), 1, 0, 0).run(
        X, np.ones((2, 2, 4, 6), np.float32), np.ones(6, np.float32), y
    )
    np.testing.assert_array_equal(y, 17)
    # NCHW-ordered views (any element strides), grouped filters
    xt = np.ones((1, 4, 5, 5), np.float32).transpose(0, 2, 3, 1)
    y = np.zeros((1, 4, 4, 6), np.float32)
    _core.ConvDesc(window(), 2, 0, 0).run(xt, np.ones((2, 2, 2, 6), np.float32), None, y)
    np.testing.assert_array_equal(y, 8)


def test_packed_filters_are_checked():
    """ConvDesc.pack and run(packed=) check what the C code would read past: the
    filters' shape, an algorithm and ISA that pack, the packed form's fit to the call."""
    kernel = _core.ConvDesc(window(3), 1, 0, 2)  # im2col
    f = np.ones((3, 3, 4, 8), np.float32)
    isa = _core.get_isa()
    packed = kernel.pack(f, 4, 2, isa)
    assert packed.nbytes > 0 and packed.isa == isa and packed.algorithm == 2
    x, y = np.ones((1, 5, 5, 4), np.float32), np.zeros((1, 3, 3, 8), np.float32)
    kernel.run(x, np.zeros_like(f), None, y, packed)  # the packed form is what the GEMM reads
    np.testing.assert_array_equal(y, np.full(y.shape, 36, np.float32))
    with pytest.raises(ValueError, match="do not fit"):  # another channel count
        kernel.run(
            np.ones((1, 5, 5, 8), np.float32),
            f.reshape(3, 3, 8, 4),
            None,
            np.zeros((1, 3, 3, 4), np.float32),
            packed,
        )
    with pytest.raises(ValueError, match="do not fit"):  # another dtype
        kernel.run(x.astype(np.float64), f.astype(np.float64), None, y.astype(np.float64), packed)
    with pytest.raises(TypeError):
        kernel.run(x, f, None, y, "packed")
    with pytest.raises(ValueError, match="must have shape"):
        kernel.pack(f, 8, 2, isa)
    with pytest.raises(ValueError, match="algorithm"):
        kernel.pack(f, 4, 0, isa)  # auto: resolve it first
    with pytest.raises(ValueError, match="ISA"):
        kernel.pack(f, 4, 2, "sse9")
    with pytest.raises(ValueError, match="forward"):
        _core.ConvDesc(window(3), 1, 0, 0, True).run(y, f, None, x, packed)
    assert _core.ConvDesc(window(3), 1, 0, 1).pack(f, 4, 1, isa) is None  # reads f as is


@pytest.mark.parametrize("algorithm, groups, channels", [(2, 1, 4), (3, 1, 4), (1, 16, 64)])
def test_packed_filters_are_read(algorithm, groups, channels):
    """The GEMM, Winograd and the grouped kernel read the packed form, not the filters
    passed beside it (zeros here): packing is done once, not again per call."""
    kernel = _core.ConvDesc(window(3), groups, 0, algorithm)
    f = np.ones((3, 3, channels // groups, channels), np.float32)
    packed = kernel.pack(f, channels, algorithm, _core.get_isa())
    x = np.ones((1, 6, 6, channels), np.float32)
    y = np.zeros((1, 4, 4, channels), np.float32)
    kernel.run(x, np.zeros_like(f), None, y, packed)
    np.testing.assert_array_equal(y, np.full(y.shape, 9 * channels // groups, np.float32))
