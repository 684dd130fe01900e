"""max_pool2d_grad, avg_pool2d_grad and max_pool_with_argmax against fastconv.reference,
where TF cannot go or is not needed: NaN (fastconv's max propagates it, TF's drops it:
docs/peers.md), NCHW argmax, float64 and float16, explicit avg padding, every ISA and channel
tail, 1 vs 2 threads, empty shapes, out=, views, errors, untouched inputs. No TensorFlow:
the sanitizer job (tests/sanitize_run.py) runs this file on the instrumented build."""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from _pool_grad_cases import make_input, reduction
from tolerance import assert_close


@pytest.mark.parametrize(
    "values, winner",
    [
        ([np.nan, 3, 3, 2], 0),
        ([1, np.nan, 3, 2], 1),  # TF: to the 3 (its forward drops the NaN)
        ([1, 3, np.nan, np.nan], 2),
        ([-np.inf, -np.inf, np.nan, 5], 2),
        ([-np.inf, -np.inf, -np.inf, -np.inf], 0),
        ([np.inf, 1, np.inf, np.nan], 3),
    ],
)
def test_nan_gets_the_gradient(values, winner):
    """fastconv's max propagates NaN, so the window's first NaN is its winner (docs/peers.md);
    checked against the reference, not TF."""
    x = np.array(values, np.float32).reshape(1, 2, 2, 1)
    y = fastconv.max_pool2d(x, 2, 2, "VALID")
    g = np.full((1, 1, 1, 1), 2.5, np.float32)
    got = fastconv.max_pool2d_grad(x, y, g, 2, 2, "VALID")
    want = np.zeros(4, np.float32)
    want[winner] = 2.5
    np.testing.assert_array_equal(got.ravel(), want)
    np.testing.assert_array_equal(got, reference.max_pool2d_grad(x, y, g, 2, 2, "VALID"))
    out, argmax = fastconv.max_pool_with_argmax(x, 2, 2, "VALID")
    assert argmax.ravel().tolist() == [winner]
    np.testing.assert_array_equal(out, y)  # the NaN (or max) the forward op returns


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_sweep_matches_reference(dtype, isa, rng):
    """NaN here and there in many channels (vector lanes and scalar tails), every ISA."""
    x = rng.standard_normal((2, 9, 8, 37)).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.05] = np.inf
    y = fastconv.max_pool2d(x, 3, 2, "SAME")
    g = rng.standard_normal(y.shape).astype(dtype)
    got = fastconv.max_pool2d_grad(x, y, g, 3, 2, "SAME")
    assert_close(got, reference.max_pool2d_grad(x, y, g, 3, 2, "SAME"), 4, dtype)
    out, argmax = fastconv.max_pool_with_argmax(x, 3, 2, "SAME")
    ref_out, ref_arg = reference.max_pool_with_argmax(x, 3, 2, "SAME")
    np.testing.assert_array_equal(argmax, ref_arg)
    np.testing.assert_array_equal(out, ref_out)


@pytest.mark.parametrize("include_batch", [False, True])
def test_argmax_nchw_indexes_the_nchw_input(include_batch, rng):
    x = rng.standard_normal((2, 5, 7, 6)).astype(np.float32)  # NCHW
    out, argmax = fastconv.max_pool_with_argmax(
        x, 2, 2, "SAME", "NCHW", include_batch_in_index=include_batch
    )
    np.testing.assert_array_equal(out, fastconv.max_pool2d(x, 2, 2, "SAME", "NCHW"))
    flat = x.reshape(-1) if include_batch else x.reshape(2, -1)
    taken = flat[argmax] if include_batch else np.stack([flat[b][argmax[b]] for b in range(2)])
    np.testing.assert_array_equal(taken, out)
    ref = reference.max_pool_with_argmax(
        x, 2, 2, "SAME", "NCHW", include_batch_in_index=include_batch
    )
    np.testing.assert_array_equal(argmax, ref[1])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_dtypes_against_reference(kind, dtype, rng):
    """float64 and float16 (computed in float32) against the reference; TF's float64 max pool
    rounds through float32 for some windows (docs/peers.md)."""
    x = rng.standard_normal((2, 8, 9, 5)).astype(dtype)
    y = fastconv.max_pool2d(x, 3, 2, "SAME")
    g = rng.standard_normal(y.shape).astype(dtype)
    if kind == "max":
        got = fastconv.max_pool2d_grad(x, y, g, 3, 2, "SAME")
        want = reference.max_pool2d_grad(x, y, g, 3, 2, "SAME")
    else:
        got = fastconv.avg_pool2d_grad(x.shape, g, 3, 2, "SAME")
        want = reference.avg_pool2d_grad(x.shape, g, 3, 2, "SAME")
    assert got.dtype == np.dtype(dtype) and want.dtype == np.dtype(dtype)
    assert_close(got, want, reduction(kind, (3, 3), (2, 2)), dtype)
    out, argmax = fastconv.max_pool_with_argmax(x, 3, 2, "SAME")
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(argmax, reference.max_pool_with_argmax(x, 3, 2, "SAME")[1])


def test_mixed_dtypes_promote(rng):
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    y = fastconv.max_pool2d(x, 2, 2)
    g = rng.standard_normal(y.shape)  # float64
    got = fastconv.max_pool2d_grad(x, y, g, 2, 2, "VALID")
    assert got.dtype == np.float64
    assert_close(got, reference.max_pool2d_grad(x, y, g, 2, 2, "VALID"), 1, np.float64)


def test_avg_grad_explicit_padding_against_reference(isa, rng):
    """TF's avg pooling has no explicit padding: the reference (padding cells not counted)."""
    pad = ((2, 1), (0, 2))
    g = rng.standard_normal((2, 6, 4, 18)).astype(np.float32)
    shape = (2, 11, 7, 18)
    got = fastconv.avg_pool2d_grad(shape, g, 3, 2, pad)
    assert_close(got, reference.avg_pool2d_grad(shape, g, 3, 2, pad), 18, np.float32)


def numeric_grad(forward, x, g, step):
    """Central differences of sum(g * forward(x)) with respect to each cell of x."""
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = step
        numeric[i] = np.sum(g * (forward(x + e) - forward(x - e))) / (2 * step)
    return numeric


def test_reference_avg_grad_is_the_finite_difference_gradient(rng):
    """The float64 reference gradient against central differences of the reference forward."""
    x = rng.standard_normal((1, 5, 6, 2))
    g = rng.standard_normal(reference.avg_pool2d(x, 3, 2, "SAME").shape)
    grad = reference.avg_pool2d_grad(x.shape, g, 3, 2, "SAME")
    numeric = numeric_grad(lambda v: reference.avg_pool2d(v, 3, 2, "SAME"), x, g, 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)


def test_reference_max_grad_is_the_finite_difference_gradient(rng):
    """Distinct values (no ties): the max gradient is the derivative of the forward op."""
    x = rng.permutation(60).reshape(1, 5, 6, 2).astype(np.float64)
    y = reference.max_pool2d(x, 3, 2, "SAME")
    g = rng.standard_normal(y.shape)
    grad = reference.max_pool2d_grad(x, y, g, 3, 2, "SAME")
    numeric = numeric_grad(lambda v: reference.max_pool2d(v, 3, 2, "SAME"), x, g, 1e-3)
    np.testing.assert_allclose(grad, numeric, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_threads_and_isas_bit_identical(kind, isa, restore_threads, rng):
    """Each cell sums its shares in output order whatever the split, thread count or ISA:
    overlapping windows (3x3 stride 1) on a layer big enough for many tasks."""
    x = make_input(rng, (2, 40, 37, 70), np.float32, ties=True)
    y = fastconv.max_pool2d(x, 3, 1, "SAME")
    g = rng.standard_normal(y.shape).astype(np.float32)
    results = []
    for threads in (1, 2):
        fastconv.set_num_threads(threads)
        if kind == "max":
            results.append(fastconv.max_pool2d_grad(x, y, g, 3, 1, "SAME"))
        else:
            results.append(fastconv.avg_pool2d_grad(x.shape, g, 3, 1, "SAME"))
        results.append(fastconv.max_pool_with_argmax(x, 3, 1, "SAME")[1])
    np.testing.assert_array_equal(results[0], results[2])
    np.testing.assert_array_equal(results[1], results[3])
    # every ISA and layout gives the same bits: compare with the baseline kernels on NCHW
    before = fastconv._core.get_isa()
    fastconv._core.set_isa("baseline")
    try:
        xc, gc = x.transpose(0, 3, 1, 2), g.transpose(0, 3, 1, 2)
        if kind == "max":
            other = fastconv.max_pool2d_grad(
                xc, y.transpose(0, 3, 1, 2), gc, 3, 1, "SAME", data_format="NCHW"
            )
        else:
            other = fastconv.avg_pool2d_grad(xc.shape, gc, 3, 1, "SAME", data_format="NCHW")
    finally:
        fastconv._core.set_isa(before)
    np.testing.assert_array_equal(results[0], other.transpose(0, 2, 3, 1))


@pytest.mark.parametrize(
    "shape, ksize, strides, padding",
    [
        ((0, 4, 4, 3), 2, 2, "VALID"),
        ((2, 0, 4, 3), 2, 2, "SAME"),
        ((2, 4, 4, 0), 2, 2, "SAME"),
        ((2, 3, 3, 3), 4, 2, "VALID"),  # output height 0: a window one cell short
    ],
)
def test_empty_shapes(shape, ksize, strides, padding):
    x = np.ones(shape, np.float32)
    y = fastconv.max_pool2d(x, ksize, strides, padding)
    got = fastconv.max_pool2d_grad(x, y, y, ksize, strides, padding)
    np.testing.assert_array_equal(got, np.zeros(shape, np.float32))
    got = fastconv.avg_pool2d_grad(shape, y, ksize, strides, padding)
    np.testing.assert_array_equal(got, np.zeros(shape, np.float32))
    out, argmax = fastconv.max_pool_with_argmax(x, ksize, strides, padding)
    assert out.shape == argmax.shape == y.shape


def test_out_argument(rng):
    x = rng.standard_normal((2, 6, 6, 4)).astype(np.float32)
    y = fastconv.max_pool2d(x, 2, 2)
    g = rng.standard_normal(y.shape).astype(np.float32)
    buf = np.full(x.shape, 7.0, np.float32)
    assert fastconv.max_pool2d_grad(x, y, g, 2, 2, "VALID", out=buf) is buf
    np.testing.assert_array_equal(buf, fastconv.max_pool2d_grad(x, y, g, 2, 2, "VALID"))
    buf[...] = 7.0
    assert fastconv.avg_pool2d_grad(x.shape, g, 2, 2, "VALID", out=buf) is buf
    np.testing.assert_array_equal(buf, fastconv.avg_pool2d_grad(x.shape, g, 2, 2, "VALID"))
    # a misaligned out (a view into a byte buffer) is served through a temporary
    raw = np.zeros(x.nbytes + 1, np.uint8)
    odd = raw[1:].view(np.float32).reshape(x.shape)
    fastconv.avg_pool2d_grad(x.shape, g, 2, 2, "VALID", out=odd)
    np.testing.assert_array_equal(odd, buf)
    pair = (np.empty(y.shape, np.float32), np.empty(y.shape, np.int64))
    got = fastconv.max_pool_with_argmax(x, 2, 2, "VALID", out=pair)
    assert got[0] is pair[0] and got[1] is pair[1]
    np.testing.assert_array_equal(pair[0], y)
    with pytest.raises(ValueError, match="out must have shape"):
        fastconv.max_pool2d_grad(x, y, g, 2, 2, "VALID", out=np.empty((2, 6, 6, 3), np.float32))
    with pytest.raises(ValueError, match="out must have dtype"):
        fastconv.avg_pool2d_grad(x.shape, g, 2, 2, "VALID", out=np.empty(x.shape))
    with pytest.raises(TypeError, match="pair"):
        fastconv.max_pool_with_argmax(x, 2, 2, "VALID", out=pair[0])
    with pytest.raises(ValueError, match="out must have dtype int64"):
        fastconv.max_pool_with_argmax(x, 2, 2, "VALID", out=(pair[0], pair[0]))


def test_strided_and_fortran_views(rng):
    base = rng.standard_normal((3, 12, 10, 16)).astype(np.float32)
    x = base[::2, 1::2, ::-1, 3:14]  # negative and non-unit strides
    xf = np.asfortranarray(x)
    y = fastconv.max_pool2d(x, 2, 1, "SAME")
    g = np.asfortranarray(rng.standard_normal(y.shape).astype(np.float32))
    want = reference.max_pool2d_grad(x, y, g, 2, 1, "SAME")
    assert_close(fastconv.max_pool2d_grad(x, y, g, 2, 1, "SAME"), want, 4, np.float32)
    assert_close(fastconv.max_pool2d_grad(xf, y, g, 2, 1, "SAME"), want, 4, np.float32)
    assert_close(
        fastconv.avg_pool2d_grad(x.shape, g[:, :, ::-1], 2, 1, "SAME"),
        reference.avg_pool2d_grad(x.shape, g[:, :, ::-1], 2, 1, "SAME"),
        16,
        np.float32,
    )


def test_inputs_never_modified(rng):
    x = make_input(rng, (2, 7, 7, 9), np.float32, ties=True)
    y = fastconv.max_pool2d(x, 3, 2, "SAME")
    g = rng.standard_normal(y.shape).astype(np.float32)
    copies = [a.copy() for a in (x, y, g)]
    fastconv.max_pool2d_grad(x, y, g, 3, 2, "SAME")
    fastconv.avg_pool2d_grad(x.shape, g, 3, 2, "SAME")
    fastconv.max_pool_with_argmax(x, 3, 2, "SAME")
    for module in (fastconv, reference):
        module.max_pool2d_grad(x.astype(np.float16), y, g, 3, 2, "SAME")
    for a, c in zip((x, y, g), copies):
        np.testing.assert_array_equal(a, c)


def test_out_overlapping_an_input(rng):
    """dx written into grad's own memory (same shape under stride 1 SAME): a temporary."""
    x = rng.standard_normal((1, 5, 5, 3)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    want = fastconv.avg_pool2d_grad(x.shape, g, 3, 1, "SAME")
    fastconv.avg_pool2d_grad(x.shape, g, 3, 1, "SAME", out=g)
    np.testing.assert_array_equal(g, want)


# ---- errors ----

X = np.zeros((2, 6, 6, 3), np.float32)
Y = np.zeros((2, 3, 3, 3), np.float32)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: fastconv.max_pool2d_grad(X, Y, Y[:, :2], 2, 2, "VALID"),
            ValueError,
            r"grad has shape \(2, 2, 3, 3\).*\(2, 3, 3, 3\)",
        ),
        (
            lambda: fastconv.max_pool2d_grad(X, Y[..., :2], Y, 2, 2, "VALID"),
            ValueError,
            "output has shape",
        ),
        (lambda: fastconv.max_pool2d_grad(X, Y, Y, 2, 1, "SAME"), ValueError, "output has shape"),
        (
            lambda: fastconv.max_pool2d_grad(X[0], Y, Y, 2, 2, "VALID"),
            ValueError,
            "input must be 4-D",
        ),
        (
            lambda: fastconv.max_pool2d_grad(X.astype(int), Y, Y, 2, 2, "VALID"),
            TypeError,
            "input must be float16, float32 or float64",
        ),
        (
            lambda: fastconv.max_pool2d_grad(X, Y, Y.astype(bool), 2, 2, "VALID"),
            TypeError,
            "grad must",
        ),
        (
            lambda: fastconv.max_pool2d_grad(X, Y, Y, 2, 2, [[3, 0], [0, 0]]),
            ValueError,
            "smaller than the window",
        ),
        (lambda: fastconv.max_pool2d_grad(X, Y, Y, 8, 1, "VALID"), ValueError, "does not fit"),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, 6], Y, 2, 2, "VALID"),
            ValueError,
            "input_sizes must have 4 elements",
        ),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, -6, 3], Y, 2, 2, "VALID"),
            ValueError,
            "input_sizes must be non-negative",
        ),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, 6.0, 3], Y, 2, 2, "VALID"),
            TypeError,
            "input_sizes must contain integers",
        ),
        (lambda: fastconv.avg_pool2d_grad("2663", Y, 2, 2, "VALID"), TypeError, "input_sizes"),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, 6, 4], Y, 2, 2, "VALID"),
            ValueError,
            "grad has shape",
        ),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, 6, 3], Y, 2, 2, "VALID", data_format="NCHW"),
            ValueError,
            "grad has shape",
        ),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, 6, 3], Y, 2, "SAME", "VALID"),
            TypeError,
            "strides is 'SAME', a padding",
        ),
        (
            lambda: fastconv.avg_pool2d_grad([2, 6, 6, 3], Y, 2, 2, "FULL"),
            ValueError,
            "padding must",
        ),
        (
            lambda: fastconv.max_pool_with_argmax(X, 2, 2, "VALID", "NCWH"),
            ValueError,
            "data_format",
        ),
        (
            lambda: fastconv.max_pool_with_argmax(X, 2, 2, "VALID", include_batch_in_index=1),
            TypeError,
            "include_batch_in_index must be True or False",
        ),
        (
            lambda: fastconv.max_pool_with_argmax(X, 0, 2, "VALID"),
            ValueError,
            "ksize must be positive",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("module", [fastconv, reference], ids=["fastconv", "reference"])
def test_reference_raises_the_same_errors(module):
    with pytest.raises(ValueError, match="grad has shape"):
        module.max_pool2d_grad(X, Y, Y[:, :2], 2, 2, "VALID")
    with pytest.raises(ValueError, match="input_sizes must have 4 elements"):
        module.avg_pool2d_grad([2, 6, 6], Y, 2, 2, "VALID")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_tails_every_isa(dtype, isa, rng):
    """Channel counts around every vector width (whole vectors, masked last lanes on AVX2 and
    AVX-512, element loops on SSE2) against the reference."""
    for channels in (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33):
        x = make_input(rng, (2, 7, 6, channels), dtype, ties=channels % 2 == 0)
        y = fastconv.max_pool2d(x, 3, 2, "SAME")
        g = rng.standard_normal(y.shape).astype(dtype)
        msg = f"{channels} channels"
        assert_close(
            fastconv.max_pool2d_grad(x, y, g, 3, 2, "SAME"),
            reference.max_pool2d_grad(x, y, g, 3, 2, "SAME"),
            4,
            dtype,
            msg,
        )
        assert_close(
            fastconv.avg_pool2d_grad(x.shape, g, 3, 2, "SAME"),
            reference.avg_pool2d_grad(x.shape, g, 3, 2, "SAME"),
            36,
            dtype,
            msg,
        )
        out, argmax = fastconv.max_pool_with_argmax(x, 3, 2, "SAME")
        ref_out, ref_arg = reference.max_pool_with_argmax(x, 3, 2, "SAME")
        np.testing.assert_array_equal(argmax, ref_arg, err_msg=msg)
        np.testing.assert_array_equal(out, ref_out, err_msg=msg)
