"""The GPU path (fastconv.gpu): every public function on CuPy arrays against the CPU path and
fastconv.reference, over sweeps like the CPU tests' (kernel sizes, strides, dilations,
SAME/VALID/explicit, NHWC/NCHW, groups, depthwise multipliers, float16/32/64, bias and
activations), plus out=, host arrays moved to the device, errors identical to the CPU path.

Each test runs on two backends:
  cupy      real CuPy on a CUDA device; skipped, with the reason, without CuPy or a device.
  emulated  tests/cupy_emulated.py: the same CUDA kernel sources compiled for the host and
            launched on a virtual grid, with every launch's arguments checked against the
            kernel's parameters. It checks the GPU path's logic on any machine; NVRTC,
            cuBLAS, concurrency and speed need the real backend.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import fastconv
from fastconv import gpu, reference
from fastconv.gpu import im2col, kernels
from _cases import covering
from run_script import run_python
from tolerance import assert_close

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTIVATIONS = (None, "relu", "relu6", "sigmoid", "tanh")
ALGORITHMS = ("direct", "im2col", "auto")


def _real_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install '.[gpu]')")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - no driver, driver too old, ...
        pytest.skip(f"no CUDA device: {type(e).__name__}: {e}")
    if count < 1:
        pytest.skip("no CUDA device: cupy.cuda.runtime.getDeviceCount() is 0")
    return cupy


@pytest.fixture(scope="module", params=["cupy", "emulated"])
def cp(request):
    """The CuPy module the test runs on (see the module docstring)."""
    if request.param == "cupy":
        return _real_cupy()
    import cupy_emulated

    if cupy_emulated.CXX is None:
        pytest.skip("no C++ compiler for the host emulation of the kernels")
    return cupy_emulated


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def on_host(cp, y):
    assert gpu.is_cupy(y), f"expected a device array, got {type(y)}"
    return cp.asnumpy(y)


def check_against_cpu_and_reference(cp, fn, args, kwargs, reduction, dtype, exact=False):
    """fn on device arrays == fn on host arrays (CPU path) == fastconv.reference's fn; or, for
    a window that does not fit, the same ValueError from all three (returns None)."""
    name = fn.__name__
    host = [a for a in args]
    device = [cp.asarray(host[0])] + host[1:]
    try:
        getattr(reference, name)(*host, **kwargs)
    except ValueError as e:
        if "window does not fit" not in str(e):
            raise
        for call_args in (device, host):
            with pytest.raises(ValueError) as info:
                fn(*call_args, **kwargs)
            assert str(info.value) == str(e)
        return None
    got = fn(*device, **kwargs)
    assert got.dtype == np.dtype(dtype), name
    got = on_host(cp, got)
    want = getattr(reference, name)(*host, **kwargs)
    cpu = fn(*host, **kwargs)
    assert got.shape == want.shape == cpu.shape
    if exact:
        np.testing.assert_array_equal(got, want)
    assert_close(got, want, reduction, dtype, err_msg=f"{name} vs reference")
    assert_close(got, cpu, reduction, dtype, err_msg=f"{name} vs CPU path")
    return got


# ------------------------------------------------------------ sweeps


def _conv_cases():
    cases = covering(
        30,
        seed=11,
        kernel=[(1, 1), (2, 2), (3, 3), (5, 5), (7, 7), (1, 3), (3, 1), (2, 5), (4, 4)],
        stride=[1, 2, 3, (1, 2), (2, 1)],
        dilation=[1, 1, 2, (1, 3), (2, 1)],
        padding=["SAME", "VALID", ((1, 0), (2, 1)), ((0, 2), (1, 1))],
        data_format=["NHWC", "NCHW"],
        groups=[1, 1, 2, 3],
        c_per_group=[1, 2, 3, 5, 9],
        out_per_group=[1, 2, 4, 9, 16],
        algorithm=ALGORITHMS,
        dtype=["float32", "float32", "float64", "float16"],
        activation=ACTIVATIONS,
        bias=[True, False],
        size=[(5, 6), (8, 7), (11, 9)],
    )
    return [pytest.param(c, id=f"case{i}") for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", _conv_cases())
def test_conv2d_sweep(cp, case, rng):
    g, cg, og = case["groups"], case["c_per_group"], case["out_per_group"]
    (kh, kw), (h, w) = case["kernel"], case["size"]
    dtype = np.dtype(case["dtype"])
    shape = (2, h, w, g * cg) if case["data_format"] == "NHWC" else (2, g * cg, h, w)
    x, f = randn(rng, shape, dtype), randn(rng, (kh, kw, cg, g * og), dtype)
    bias = randn(rng, g * og, dtype) if case["bias"] else None
    kwargs = dict(bias=bias, activation=case["activation"], algorithm=case["algorithm"])
    check_against_cpu_and_reference(
        cp,
        fastconv.conv2d,
        [x, f, case["stride"], case["padding"], case["data_format"], case["dilation"]],
        kwargs,
        kh * kw * cg + 1,
        dtype,
    )


def _depthwise_cases():
    cases = covering(
        20,
        seed=12,
        kernel=[(1, 1), (3, 3), (5, 5), (7, 7), (2, 3), (3, 1)],
        stride=[1, 2, (1, 2), (3, 1)],
        dilation=[1, 1, 2, (2, 1)],
        padding=["SAME", "VALID", ((2, 0), (1, 3))],
        data_format=["NHWC", "NCHW"],
        channels=[1, 3, 8, 17],
        multiplier=[1, 1, 2, 3],
        dtype=["float32", "float64", "float16"],
        activation=ACTIVATIONS,
        bias=[True, False],
    )
    return [pytest.param(c, id=f"case{i}") for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", _depthwise_cases())
def test_depthwise_conv2d_sweep(cp, case, rng):
    (kh, kw), c, m = case["kernel"], case["channels"], case["multiplier"]
    dtype = np.dtype(case["dtype"])
    shape = (2, 9, 10, c) if case["data_format"] == "NHWC" else (2, c, 9, 10)
    x, f = randn(rng, shape, dtype), randn(rng, (kh, kw, c, m), dtype)
    bias = randn(rng, c * m, dtype) if case["bias"] else None
    check_against_cpu_and_reference(
        cp,
        fastconv.depthwise_conv2d,
        [x, f, case["stride"], case["padding"], case["data_format"], case["dilation"]],
        dict(bias=bias, activation=case["activation"]),
        kh * kw + 1,
        dtype,
    )


def _pool_cases():
    cases = covering(
        20,
        seed=13,
        kind=["max", "avg"],
        ksize=[1, 2, 3, (3, 2), (2, 5), 7],
        stride=[1, 2, 3, (1, 2), (2, 3)],
        padding=["SAME", "VALID", ((1, 0), (0, 1))],
        data_format=["NHWC", "NCHW"],
        channels=[1, 4, 9],
        dtype=["float32", "float64", "float16"],
    )
    return [pytest.param(c, id=f"case{i}") for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", _pool_cases())
def test_pool_sweep(cp, case, rng):
    dtype = np.dtype(case["dtype"])
    c = case["channels"]
    shape = (2, 9, 8, c) if case["data_format"] == "NHWC" else (2, c, 9, 8)
    x = randn(rng, shape, dtype)
    padding = case["padding"]
    if not isinstance(padding, str):  # explicit padding must stay under the window
        k = np.broadcast_to(case["ksize"], (2,))
        if min(k) < 2:
            padding = "SAME"
    fn = fastconv.max_pool2d if case["kind"] == "max" else fastconv.avg_pool2d
    k = np.broadcast_to(case["ksize"], (2,))
    check_against_cpu_and_reference(
        cp,
        fn,
        [x, case["ksize"], case["stride"], padding, case["data_format"]],
        {},
        1 if case["kind"] == "max" else int(k[0] * k[1]),
        dtype,
        exact=case["kind"] == "max",
    )


# ------------------------------------------------------------ dtypes, layouts, devices


@pytest.mark.parametrize(
    "x_dtype, f_dtype, b_dtype",
    [
        (np.float32, np.float64, None),
        (np.float16, np.float32, None),
        (np.float16, np.float16, np.float32),
        (np.float32, np.float32, np.float64),
        (np.float16, np.float16, np.float16),
    ],
)
def test_mixed_dtypes_promote_like_the_cpu(cp, x_dtype, f_dtype, b_dtype, rng):
    x, f = randn(rng, (2, 6, 5, 4), x_dtype), randn(rng, (3, 2, 4, 3), f_dtype)
    b = None if b_dtype is None else randn(rng, 3, b_dtype)
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(cp.asarray(x), f, 1, "SAME", bias=b, algorithm=algorithm)
        cpu = fastconv.conv2d(x, f, 1, "SAME", bias=b, algorithm=algorithm)
        assert got.dtype == cpu.dtype
        assert_close(on_host(cp, got), cpu, 25, cpu.dtype)


def test_float16_accumulates_in_float32(cp):
    """4096 ones: float16 accumulation would stall at 2048."""
    x = cp.asarray(np.ones((1, 2, 2, 4096), np.float16))
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(x, np.ones((1, 1, 4096, 2), np.float16), algorithm=algorithm)
        assert got.dtype == np.float16
        np.testing.assert_array_equal(on_host(cp, got), np.full((1, 2, 2, 2), 4096, np.float16))
    got = fastconv.depthwise_conv2d(
        cp.asarray(np.ones((1, 64, 64, 1), np.float16)), np.ones((64, 64, 1, 1), np.float16)
    )
    np.testing.assert_array_equal(on_host(cp, got), np.full((1, 1, 1, 1), 4096, np.float16))
    got = fastconv.avg_pool2d(cp.asarray(np.ones((1, 64, 64, 2), np.float16)), 64, 1)
    np.testing.assert_array_equal(on_host(cp, got), np.ones((1, 1, 1, 2), np.float16))


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("layout", ["cropped", "strided", "reversed", "transposed"])
def test_strided_device_inputs(cp, layout, fmt, rng):
    """Views are read in place through their strides (RawKernels ignore views otherwise)."""
    shape = (2, 7, 8, 3) if fmt == "NHWC" else (2, 3, 7, 8)
    x = randn(rng, shape)
    big = cp.asarray(np.pad(x, ((0, 0), (2, 2), (2, 2), (2, 2))).repeat(2, axis=0))
    view = {
        "cropped": big[::2, 2:-2, 2:-2, 2:-2],
        "strided": cp.asarray(x.repeat(2, axis=1).repeat(2, axis=3))[:, ::2, :, ::2],
        "reversed": cp.asarray(np.ascontiguousarray(x[:, ::-1]))[:, ::-1],
        "transposed": cp.asarray(np.ascontiguousarray(x.transpose(0, 2, 1, 3))).transpose(
            0, 2, 1, 3
        ),
    }[layout]
    np.testing.assert_array_equal(cp.asnumpy(view), x)
    f, fd = randn(rng, (3, 3, 3, 12)), randn(rng, (2, 2, 3, 2))
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(view, f, (1, 2), "SAME", fmt, algorithm=algorithm)
        assert_close(
            on_host(cp, got),
            reference.conv2d(x, f, (1, 2), "SAME", fmt),
            27,
            np.float32,
            err_msg=f"{layout} {algorithm}",
        )
    assert_close(
        on_host(cp, fastconv.depthwise_conv2d(view, fd, 2, "VALID", fmt)),
        reference.depthwise_conv2d(x, fd, 2, "VALID", fmt),
        4,
        np.float32,
    )
    np.testing.assert_array_equal(
        on_host(cp, fastconv.max_pool2d(view, 3, 2, "SAME", fmt)),
        reference.max_pool2d(x, 3, 2, "SAME", fmt),
    )


def test_host_filter_and_bias_are_moved_to_the_device(cp, rng):
    x, f, b = randn(rng, (1, 6, 6, 4)), randn(rng, (3, 3, 4, 5)), randn(rng, 5)
    swapped = f.astype(f.dtype.newbyteorder())
    for filters, bias, host in [
        (f, b, (f, b)),
        (f.tolist(), b.tolist(), (f.tolist(), b.tolist())),
        (cp.asarray(f), b, (f, b)),
        (f, cp.asarray(b), (f, b)),
        (swapped, b, (swapped, b)),
    ]:
        got = fastconv.conv2d(cp.asarray(x), filters, 1, "SAME", bias=bias)
        want = reference.conv2d(x, host[0], 1, "SAME", bias=host[1])
        assert got.dtype == want.dtype  # lists are float64, as on the CPU
        assert_close(on_host(cp, got), want, 37, want.dtype)


def test_host_input_with_device_arrays_is_a_type_error(cp, rng):
    x, f, fd = randn(rng, (1, 6, 6, 4)), randn(rng, (3, 3, 4, 5)), randn(rng, (3, 3, 4, 1))
    for call, name in [
        (lambda: fastconv.conv2d(x, cp.asarray(f)), "filters"),
        (lambda: fastconv.conv2d(x, f, bias=cp.asarray(np.zeros(5, np.float32))), "bias"),
        (lambda: fastconv.depthwise_conv2d(x, cp.asarray(fd)), "filter"),
        (lambda: reference.conv2d(x, cp.asarray(f)), "filters"),
    ]:
        with pytest.raises(TypeError, match=f"{name} is a CuPy array"):
            call()
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        fastconv.max_pool2d(x, 2, 2, out=cp.empty((1, 3, 3, 4), np.float32))


# ------------------------------------------------------------ out=


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_out_is_written_and_returned(cp, dtype, fmt, rng):
    shape = (2, 7, 8, 3) if fmt == "NHWC" else (2, 3, 7, 8)
    x = randn(rng, shape, dtype)
    f, fd, b = (
        randn(rng, (3, 3, 3, 16), dtype),
        randn(rng, (3, 3, 3, 2), dtype),
        randn(rng, 16, dtype),
    )
    cases = [
        (
            fastconv.conv2d,
            (f, 1, "SAME", fmt),
            dict(bias=b, activation="relu", algorithm="im2col"),
            28,
        ),
        (fastconv.conv2d, (f, 2, "VALID", fmt), dict(algorithm="direct"), 27),
        (fastconv.depthwise_conv2d, (fd, 1, "SAME", fmt), dict(activation="tanh"), 9),
        (fastconv.max_pool2d, (3, 2, "SAME", fmt), {}, 1),
        (fastconv.avg_pool2d, (2, 1, "VALID", fmt), {}, 4),
    ]
    for fn, args, kwargs, reduction in cases:
        want = getattr(reference, fn.__name__)(x, *args, **kwargs)
        out = cp.asarray(np.full(want.shape, np.nan, dtype))
        got = fn(cp.asarray(x), *args, out=out, **kwargs)
        assert got is out
        assert_close(on_host(cp, out), want, reduction, dtype, err_msg=fn.__name__)


def test_out_aliasing_the_input(cp, rng):
    """out= may be the input itself: the result is still right (computed into a temporary)."""
    x = randn(rng, (2, 5, 6, 4))
    f = randn(rng, (1, 1, 4, 4))
    for algorithm in ALGORITHMS:
        xx = cp.asarray(x)
        got = fastconv.conv2d(xx, f, out=xx, algorithm=algorithm)
        assert got is xx
        assert_close(on_host(cp, xx), reference.conv2d(x, f), 4, np.float32)
    xx = cp.asarray(x)
    assert fastconv.max_pool2d(xx, 3, 1, "SAME", out=xx) is xx
    np.testing.assert_array_equal(on_host(cp, xx), reference.max_pool2d(x, 3, 1, "SAME"))


def test_bad_out(cp):
    x = cp.asarray(np.ones((1, 6, 6, 4), np.float32))
    w = np.ones((3, 3, 4, 2), np.float32)
    for out, exc, match in [
        (np.empty((1, 6, 6, 2), np.float32), TypeError, "out must be a cupy"),
        (cp.empty((1, 6, 6, 3), np.float32), ValueError, "out must have shape"),
        (cp.empty((1, 6, 6, 2), np.float64), ValueError, "out must have dtype"),
        (cp.empty((1, 6, 6, 4), np.float32)[..., ::2], ValueError, "C-contiguous"),
    ]:
        with pytest.raises(exc, match=match):
            fastconv.conv2d(x, w, 1, "SAME", out=out)


# ------------------------------------------------------------ errors identical to the CPU path

X = np.ones((1, 6, 6, 4), np.float32)
W = np.ones((3, 3, 4, 2), np.float32)
DW = np.ones((3, 3, 4, 2), np.float32)

BAD_CALLS = {
    "input-rank": lambda m, x: m.conv2d(x[0], W),
    "input-dtype": lambda m, x: m.max_pool2d(x.astype(np.int32), 2, 2),
    "filters-rank": lambda m, x: m.conv2d(x, W[0]),
    "filters-dtype": lambda m, x: m.conv2d(x, W.astype(np.int64)),
    "channels": lambda m, x: m.conv2d(x, np.ones((3, 3, 3, 2), np.float32)),
    "groups-out": lambda m, x: m.conv2d(x, np.ones((3, 3, 2, 3), np.float32)),
    "depthwise-channels": lambda m, x: m.depthwise_conv2d(x, np.ones((3, 3, 5, 1), np.float32)),
    "data_format": lambda m, x: m.conv2d(x, W, 1, "SAME", "NCWH"),
    "padding": lambda m, x: m.conv2d(x, W, 1, "FULL"),
    "padding-pairs": lambda m, x: m.conv2d(x, W, 1, [[1, 1], [1, -1]]),
    "strides-zero": lambda m, x: m.conv2d(x, W, 0),
    "strides-4": lambda m, x: m.max_pool2d(x, 2, [2, 2, 2, 2]),
    "dilations-type": lambda m, x: m.conv2d(x, W, 1, "SAME", dilations=1.5),
    "algorithm": lambda m, x: m.conv2d(x, W, algorithm="fft"),
    "winograd-shape": lambda m, x: m.conv2d(x, W, 2, "SAME", algorithm="winograd"),
    "activation": lambda m, x: m.conv2d(x, W, activation="gelu"),
    "bias-shape": lambda m, x: m.conv2d(x, W, bias=np.ones(3, np.float32)),
    "bias-dtype": lambda m, x: m.depthwise_conv2d(x, DW, bias=np.ones(8, np.int32)),
    "pool-padding": lambda m, x: m.avg_pool2d(x, 2, 1, [[2, 0], [0, 0]]),
    "ksize": lambda m, x: m.max_pool2d(x, (2, 0), 1),
    "several-faults": lambda m, x: m.conv2d(x, W, 0, "FULL", "NCWH", activation="gelu"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_errors_identical_to_the_cpu_path(cp, case):
    call = BAD_CALLS[case]
    with pytest.raises((TypeError, ValueError)) as cpu:
        call(fastconv, X)
    with pytest.raises(type(cpu.value)) as dev:
        call(fastconv, cp.asarray(X))
    assert str(dev.value) == str(cpu.value)


# ------------------------------------------------------------ NaN, Inf, empty results


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("activation", [None, "relu", "relu6"])
def test_nan_and_inf_propagate_like_the_cpu(cp, activation, rng):
    x = randn(rng, (1, 8, 9, 3))
    x[0, 2, 2, 0], x[0, 2, 4, 0], x[0, 6, 7, 2] = np.inf, -np.inf, np.nan
    f = randn(rng, (3, 3, 3, 12))
    for algorithm in ALGORITHMS:
        got = on_host(
            cp,
            fastconv.conv2d(
                cp.asarray(x), f, 1, "SAME", activation=activation, algorithm=algorithm
            ),
        )
        want = reference.conv2d(x, f, 1, "SAME", activation=activation)
        assert np.isnan(want).any()
        assert_close(got, want, 27, np.float32, err_msg=algorithm)
    y = np.full((1, 4, 4, 2), -np.inf, np.float32)
    y[0, 1, 1, 0] = np.nan
    np.testing.assert_array_equal(
        on_host(cp, fastconv.max_pool2d(cp.asarray(y), 2, 2)), reference.max_pool2d(y, 2, 2)
    )


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_an_inf_tap_over_padding_is_skipped_by_every_algorithm(cp, fmt, rng):
    # the CPU contract (docs/non-finite.md): im2col's zero padding would give 0 * Inf = NaN
    # on the border; such filters run the direct kernel
    x = randn(rng, (1, 6, 7, 4))
    x = x if fmt == "NHWC" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    f = randn(rng, (3, 3, 4, 8))
    f[0, 0, 1, 2], f[2, 1, 0, 5] = np.inf, np.nan
    want = reference.conv2d(x, f, 1, "SAME", fmt)
    assert np.isfinite(want[0, 0, 0] if fmt == "NHWC" else want[0, :, 0, 0]).any()
    for algorithm in ALGORITHMS:
        got = on_host(cp, fastconv.conv2d(cp.asarray(x), f, 1, "SAME", fmt, algorithm=algorithm))
        assert_close(got, want, 36, np.float32, err_msg=algorithm)


def test_empty_results(cp):
    x = cp.asarray(np.arange(10, dtype=np.float32).reshape(1, 2, 5, 1))
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(
            x,
            np.ones((3, 3, 1, 1), np.float32),
            1,
            "VALID",
            algorithm=algorithm,
            bias=np.ones(1, np.float32),
            activation="relu",
        )
        assert got.shape == (1, 0, 3, 1) and gpu.is_cupy(got)
    assert fastconv.depthwise_conv2d(x, np.ones((3, 3, 1, 2), np.float32)).shape == (1, 0, 3, 2)
    assert fastconv.max_pool2d(cp.asarray(np.ones((2, 4, 1, 1), np.float32)), 2, 1).shape == (
        2,
        3,
        0,
        1,
    )
    with pytest.raises(ValueError, match="window does not fit the input width"):
        fastconv.max_pool2d(cp.asarray(np.ones((2, 4, 1, 1), np.float32)), 3, 1)
    with pytest.raises(ValueError, match="window does not fit the input height"):
        fastconv.conv2d(
            cp.asarray(np.ones((2, 1, 1, 4), np.float32)),
            np.ones((3, 3, 4, 4), np.float32),
            1,
            "VALID",
            name="conv",
        )
    assert fastconv.avg_pool2d(cp.asarray(np.ones((0, 4, 4, 1), np.float32)), 2, 2).shape == (
        0,
        2,
        2,
        1,
    )


def test_padding_only_outputs(cp):
    """A zero-height input with explicit padding: every output is bias + activation of 0."""
    x = cp.asarray(np.ones((1, 0, 3, 2), np.float32))
    b = np.array([0.5, -1.0], np.float32)
    for algorithm in ALGORITHMS:
        got = fastconv.conv2d(
            x,
            np.ones((1, 1, 2, 2), np.float32),
            1,
            [[1, 1], [0, 0]],
            bias=b,
            activation="relu",
            algorithm=algorithm,
        )
        want = reference.conv2d(
            np.ones((1, 0, 3, 2), np.float32),
            np.ones((1, 1, 2, 2), np.float32),
            1,
            [[1, 1], [0, 0]],
            bias=b,
            activation="relu",
        )
        np.testing.assert_array_equal(on_host(cp, got), want)


# ------------------------------------------------------------ dispatch internals


def test_64_bit_indices_and_workspace_chunks(cp, monkeypatch, rng):
    """The int64 kernel variants and the batch-chunked GEMM give the same results."""
    x, f, fd = randn(rng, (5, 7, 6, 6)), randn(rng, (3, 3, 3, 10)), randn(rng, (3, 3, 6, 2))
    want = {
        fmt: reference.conv2d(
            x if fmt == "NHWC" else x.transpose(0, 3, 1, 2),
            f,
            1,
            "SAME",
            fmt,
            bias=np.arange(10.0, dtype=np.float32),
            activation="tanh",
        )
        for fmt in ("NHWC", "NCHW")
    }
    monkeypatch.setattr(gpu, "INT32_LIMIT", 0)
    monkeypatch.setattr(im2col, "WORKSPACE_BYTES", 1)  # one image per chunk
    for fmt in ("NHWC", "NCHW"):
        xx = cp.asarray(x if fmt == "NHWC" else np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        for algorithm in ("direct", "im2col"):
            got = fastconv.conv2d(
                xx,
                f,
                1,
                "SAME",
                fmt,
                bias=np.arange(10.0, dtype=np.float32),
                activation="tanh",
                algorithm=algorithm,
            )
            assert_close(on_host(cp, got), want[fmt], 28, np.float32, err_msg=f"{fmt} {algorithm}")
    assert_close(
        on_host(cp, fastconv.depthwise_conv2d(cp.asarray(x), fd, 2, "SAME")),
        reference.depthwise_conv2d(x, fd, 2, "SAME"),
        9,
        np.float32,
    )
    np.testing.assert_array_equal(
        on_host(cp, fastconv.max_pool2d(cp.asarray(x), 3, 2, "SAME")),
        reference.max_pool2d(x, 3, 2, "SAME"),
    )


def test_auto_picks_direct_for_thin_gemms():
    from fastconv._geometry import conv_shape

    def pick(x_shape, f_shape):
        return gpu.choose_algorithm("auto", conv_shape(x_shape, f_shape, 1, "SAME", "NHWC", 1))

    assert pick((1, 8, 8, 3), (3, 3, 3, 4)) == "direct"  # 4 outputs per group
    assert pick((1, 8, 8, 1), (3, 3, 1, 32)) == "direct"  # reduction 9
    assert pick((1, 8, 8, 64), (3, 3, 64, 64)) == "im2col"
    assert pick((1, 8, 8, 3), (7, 7, 3, 64)) == "im2col"  # a ResNet stem
    assert gpu.choose_algorithm("winograd", None) == "im2col"


# ------------------------------------------------------------ no GPU needed


def test_kernel_variants_are_listed_once_with_telling_names():
    variants = list(kernels.variants())
    names = [v.name for v in variants]
    assert len(names) == len(set(names))
    assert "fc_conv_direct_f32_i32_nhwc_k3x3_cg1" in names
    for v in variants:
        source = v.source()
        assert f"#define FC_KERNEL {v.name}\n" in source and "#include" not in source
        assert 'extern "C" __global__ void FC_KERNEL(' in source


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_kernels_compile_with_nvcc():
    """One variant of each kernel and dtype through tools/check_cuda_kernels.py (the tool
    compiles them all)."""
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "tools", "check_cuda_kernels.py"),
            "--arch",
            "sm_80",
            "--match",
            "_i32_nhwc",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout


def _nvrtc_missing():
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as e:  # noqa: BLE001 - no CuPy, or no NVRTC library for it
        return f"CuPy's NVRTC is not available: {type(e).__name__}: {e}"
    return None


@pytest.mark.skipif(_nvrtc_missing() is not None, reason=str(_nvrtc_missing()))
def test_kernels_compile_with_cupys_nvrtc():
    """The same subset through the NVRTC library that CuPy's RawKernel compiles with."""
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "tools", "check_cuda_kernels.py"),
            "--nvrtc",
            "--arch",
            "sm_80",
            "--match",
            "_i32_nhwc",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout


def test_info_reports_the_gpu(monkeypatch):
    from fastconv import _info

    data = _info.gpu_info()
    assert set(data) == {"cupy", "devices", "error"}
    assert data["error"] is None or isinstance(data["error"], str)
    assert "GPU:" in _info.format_info(_info.info())
    monkeypatch.setattr(_info.importlib.util, "find_spec", lambda name: None)
    assert _info.gpu_info() == {"cupy": None, "devices": [], "error": "CuPy is not installed"}


def test_numpy_calls_never_import_cupy():
    code = (
        "import sys, numpy as np, fastconv\n"
        "x = np.ones((1, 5, 5, 2), np.float32)\n"
        "fastconv.conv2d(x, np.ones((3, 3, 2, 2), np.float32), 1, 'SAME')\n"
        "fastconv.max_pool2d(x, 2, 2)\n"
        "assert not [m for m in sys.modules if m.startswith('cupy')], 'cupy imported'\n"
    )
    proc = run_python(code, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
