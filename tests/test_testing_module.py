"""fastconv.testing: the tolerance rule, assert_allclose's verdicts and messages, reduction
lengths, output_shape against what the ops return, and the hypothesis strategies (every
drawn call valid, and its results within the tolerance of the reference)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings

import fastconv
from fastconv import reference, testing
from run_script import run_python


def test_tolerance_rule():
    eps32 = float(np.finfo(np.float32).eps)
    assert testing.tolerance(np.float32, 1) == pytest.approx(16 * eps32)
    assert testing.tolerance("float32", 576) == pytest.approx(8 * eps32 * (24 + 1))
    assert testing.tolerance(np.float64, 9) == pytest.approx(8 * 2.0**-52 * 4)
    assert testing.tolerance(np.float16, 9) > testing.tolerance(np.float32, 9)


@pytest.mark.parametrize(
    "bad, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_tolerance_rejects_bad_lengths(bad, error):
    with pytest.raises(error, match="reduction_length"):
        testing.tolerance(np.float32, bad)


def test_tolerance_rejects_non_float_dtypes():
    with pytest.raises(TypeError, match="dtype must be a float dtype"):
        testing.tolerance(np.int32, 9)


def test_reduction_lengths():
    assert testing.reduction_length("conv2d", (3, 3, 64, 128)) == 576
    assert testing.reduction_length("conv2d", np.zeros((5, 5, 2, 8)), bias=True) == 51
    assert testing.reduction_length("conv2d", (128, 64, 3, 3), filter_format="OIHW") == 576
    assert testing.reduction_length("depthwise_conv2d", (3, 5, 32, 2)) == 15
    assert testing.reduction_length("depthwise_conv2d", (64, 1, 3, 5), filter_format="OIHW") == 15
    assert testing.reduction_length("avg_pool2d", ksize=(2, 3)) == 6
    assert testing.reduction_length("avg_pool2d", ksize=[1, 3, 3, 1]) == 9
    assert testing.reduction_length("max_pool2d", ksize=3) == 1


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: testing.reduction_length("conv3d", (3, 3, 1, 1)), ValueError, "op must be one of"),
        (lambda: testing.reduction_length("conv2d"), TypeError, "needs filters"),
        (lambda: testing.reduction_length("conv2d", (3, 3, 1)), ValueError, "4-D"),
        (lambda: testing.reduction_length("avg_pool2d"), TypeError, "needs ksize"),
        (lambda: testing.reduction_length("avg_pool2d", ksize=0), ValueError, "ksize"),
        (
            lambda: testing.reduction_length("conv2d", (3, 3, 1, 1), filter_format="HWCN"),
            ValueError,
            "filter_format",
        ),
    ],
)
def test_reduction_length_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_assert_allclose_passes_within_and_fails_beyond_the_tolerance():
    desired = np.linspace(-2, 2, 50, dtype=np.float32)
    tol = testing.tolerance(np.float32, 100)
    inside = desired + np.float32(0.5 * tol * 2)  # half the allowance at the largest value
    testing.assert_allclose(inside, desired, reduction=100)
    outside = desired.copy()
    outside[17] += 10 * tol * 2
    with pytest.raises(AssertionError) as info:
        testing.assert_allclose(outside, desired, reduction=100, err_msg="layer x")
    message = str(info.value)
    assert "1 of 50 elements" in message and "index (17,)" in message
    assert f"{float(outside[17])!r}" in message and "layer x" in message
    assert "reduction=100 in float32" in message and "8 * eps * (sqrt(100) + 1)" in message


def test_assert_allclose_names_the_worst_element_of_several():
    desired = np.zeros((2, 3, 4))
    desired[0, 0, 0] = 1.0
    actual = desired.copy()
    actual[1, 2, 3] = 1e-3
    actual[0, 1, 2] = 1e-2
    with pytest.raises(AssertionError, match=r"2 of 24 elements.*\n.*index \(0, 1, 2\)"):
        testing.assert_allclose(actual, desired, reduction=9)


def test_assert_allclose_dtype_defaults_to_the_less_precise_array():
    desired = np.float64(1.0) + np.arange(4) / 3
    rounded = desired.astype(np.float32)
    testing.assert_allclose(rounded, desired, reduction=1)  # float32 rounding is allowed
    with pytest.raises(AssertionError):
        testing.assert_allclose(rounded.astype(np.float64), desired, reduction=1)
    testing.assert_allclose(rounded.astype(np.float64), desired, reduction=1, dtype=np.float32)


@pytest.mark.parametrize(
    "actual, desired",
    [
        ([1.0, np.nan], [1.0, 2.0]),
        ([1.0, 2.0], [1.0, np.nan]),
        ([np.inf], [-np.inf]),
        ([np.inf], [np.nan]),
        ([1e300], [np.inf]),
    ],
)
def test_assert_allclose_nonfinite_must_match_exactly(actual, desired):
    with pytest.raises(AssertionError, match="non-finite values differ"):
        testing.assert_allclose(np.array(actual), np.array(desired), reduction=1)


def test_assert_allclose_nonfinite_at_the_same_places_pass():
    a = np.array([np.nan, np.inf, -np.inf, 1.0])
    testing.assert_allclose(a, a.copy(), reduction=1)
    testing.assert_allclose(a, a.copy(), ulp=0)
    testing.assert_allclose(np.array([np.nan]), np.array([np.nan]), reduction=1)


def test_assert_allclose_ulp_mode():
    desired = np.array([1.0, 1000.0, 0.0], np.float32)
    spacing = np.spacing(desired)
    testing.assert_allclose(desired + 2 * spacing, desired, ulp=2)
    with pytest.raises(AssertionError, match=r"ulp=2 in float32.*\n.*index \(1,\)"):
        testing.assert_allclose(desired + np.array([0, 3, 0]) * spacing, desired, ulp=2)


def test_assert_allclose_argument_errors():
    with pytest.raises(TypeError, match="exactly one of reduction"):
        testing.assert_allclose([1.0], [1.0])
    with pytest.raises(TypeError, match="exactly one of reduction"):
        testing.assert_allclose([1.0], [1.0], reduction=1, ulp=1)
    with pytest.raises(AssertionError, match="shapes differ"):
        testing.assert_allclose(np.zeros((2, 3)), np.zeros((3, 2)), reduction=1)


def test_assert_allclose_scale_stands_for_terms_the_outputs_hide():
    """0.6 - 0.6 keeps the rounding of 0.6: against max|desired| = 0.003 the error is 5x the
    tolerance, against the terms' size it is well within it."""
    desired = np.array([0.0031713242642581463, 0.0, 0.0])
    actual = np.array([0.003171265125274658, 0.0, 0.0], np.float32)
    with pytest.raises(AssertionError, match=r"max\|desired\| 0.00317"):
        testing.assert_allclose(actual, desired, reduction=7)
    testing.assert_allclose(actual, desired, reduction=7, scale=0.64)
    # a scale below the outputs cannot be the terms' size: max|desired| still counts
    with pytest.raises(AssertionError, match=r"scale 0.00317"):
        testing.assert_allclose(actual, desired, reduction=7, scale=1e-9)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="scale="):
            testing.assert_allclose(actual, desired, reduction=7, scale=bad)
    with pytest.raises((TypeError, ValueError)):
        testing.assert_allclose(actual, desired, ulp=2, scale=1.0)


def test_call_scale_keeps_a_cancelling_bias_and_relu_within_the_tolerance():
    """The case CI's hypothesis run drew: a fused bias cancels the one output ReLU keeps."""
    from fastconv.testing._hypothesis import Call

    x = np.array(
        [[[[-0.7550531, 0.20041396], [-0.15741272, 1.5218117], [-0.6817499, -0.26859003]]]]
    )
    w = np.array(
        [[[[1.0564177, -0.9719786]]], [[[-0.82228976, 0.7963331]]], [[[0.09112451, -0.88897175]]]]
    ).reshape(1, 3, 1, 2)  # a 1x3 window
    call = Call(
        "conv2d_transpose",
        (x.astype(np.float32), w.astype(np.float32), (1, 1, 3, 1), (1, 1), "SAME"),
        {"bias": np.array([-0.6320215], np.float32), "activation": "relu"},
        7,
    )
    want = call.run(reference)
    assert call.scale > 100 * np.abs(want).max()  # the terms are ~0.6, the output 0.003
    testing.assert_allclose(call.run(fastconv), want, reduction=call.reduction, scale=call.scale)


def test_call_scale_of_max_pool2d_grad_keeps_where_the_gradient_goes(rng):
    from fastconv.testing._hypothesis import Call

    x = rng.standard_normal((1, 4, 4, 1)).astype(np.float32)
    y = reference.max_pool2d(x, 2, 2, "VALID")
    dy = -np.abs(rng.standard_normal(y.shape)).astype(np.float32)
    call = Call("max_pool2d_grad", (x, y, dy, 2, 2, "VALID"), {}, 1)
    assert call.scale == pytest.approx(float(np.abs(dy).max()))


def test_the_old_readme_recipe_fails_where_the_reduction_aware_one_passes(rng):
    """The issue's report: rtol=atol=1e-5 fails fastconv against its own reference on a
    3x3x512 layer; the reduction-aware tolerance is the one to use."""
    x = rng.standard_normal((1, 14, 14, 512)).astype(np.float32)
    w = rng.standard_normal((3, 3, 512, 64)).astype(np.float32)
    got = fastconv.conv2d(x, w, 1, "SAME")
    want = reference.conv2d(x, w, 1, "SAME")
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    testing.assert_allclose(got, want, reduction=testing.reduction_length("conv2d", w))


@pytest.mark.parametrize(
    "op, args, kwargs, want",
    [
        ("conv2d", ((8, 56, 56, 64), (3, 3, 64, 128), 1, "SAME"), {}, (8, 56, 56, 128)),
        ("conv2d", ((2, 3, 9, 9), (3, 3, 1, 6), 2, "VALID"), {"data_format": "NCHW"}, (2, 6, 4, 4)),
        (
            "depthwise_conv2d",
            ((1, 10, 10, 4), (3, 3, 4, 2), 1, "VALID"),
            {"dilations": 2},
            (1, 6, 6, 8),
        ),
        ("max_pool2d", ((8, 56, 56, 64), 3, 2, "SAME"), {}, (8, 28, 28, 64)),
        ("avg_pool2d", ((1, 7, 7, 3), 2, 2), {}, (1, 3, 3, 3)),
    ],
)
def test_output_shape_examples(op, args, kwargs, want):
    assert testing.output_shape(op, *args, **kwargs) == want


def test_output_shape_errors_are_the_ops_errors():
    with pytest.raises(ValueError, match="op must be one of"):
        testing.output_shape("conv3d", (1, 4, 4, 1), (3, 3, 1, 1))
    with pytest.raises(ValueError, match="window does not fit"):
        testing.output_shape("conv2d", (1, 1, 1, 1), (3, 3, 1, 1), 1, "VALID")
    with pytest.raises(TypeError, match="strides"):
        testing.output_shape("max_pool2d", (1, 4, 4, 1), 2, "SAME")


@settings(max_examples=60, deadline=None)
@given(
    testing.conv2d_args(
        algorithms=fastconv.conv.ALGORITHMS, bias=True, activations=(None, "relu", "tanh")
    )
)
def test_conv2d_args_draw_valid_calls(call):
    got = call.run(fastconv)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


@settings(max_examples=40, deadline=None)
@given(testing.depthwise_conv2d_args(bias=True, activations=(None, "relu6")))
def test_depthwise_conv2d_args_draw_valid_calls(call):
    got = call.run(fastconv)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


@settings(max_examples=40, deadline=None)
@given(testing.pool2d_args())
def test_pool2d_args_draw_valid_calls(call):
    got = call.run(fastconv)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


@settings(max_examples=30, deadline=None)
@given(
    testing.conv2d_args(
        dtypes=("float64",),
        data_formats=("NCHW",),
        paddings=("VALID",),
        max_batch=1,
        max_size=6,
        max_kernel=2,
        max_stride=1,
        max_dilation=1,
        max_groups=1,
        dilation_with_stride=False,
    )
)
def test_strategy_bounds_are_respected(call):
    x, f, strides, padding, data_format, dilations = call.args
    assert x.dtype == np.float64 and data_format == "NCHW" and padding == "VALID"
    assert x.shape[0] == 1 and max(x.shape[2:]) <= 6 and max(f.shape[:2]) <= 2
    assert strides == (1, 1) and dilations == (1, 1) and f.shape[2] == x.shape[1]


@settings(max_examples=30, deadline=None)
@given(testing.conv2d_args(dilation_with_stride=False))
def test_tf_compatible_windows(call):
    strides, dilations = call.args[2], call.args[5]
    assert strides == (1, 1) or dilations == (1, 1)


def test_call_repr_shows_shapes_and_seed():
    from fastconv.testing._hypothesis import Call

    call = Call(
        "conv2d",
        (np.zeros((1, 4, 4, 2), np.float32), np.zeros((3, 3, 2, 1)), 1, "SAME"),
        {"bias": np.zeros(1)},
        19,
        7,
    )
    assert re.fullmatch(
        r"Call\(conv2d\(<float32 array \(1, 4, 4, 2\)>, <float64 array "
        r"\(3, 3, 2, 1\)>, 1, 'SAME', bias=<float64 array \(1,\)>\), "
        r"reduction=19, seed=7\)",
        repr(call),
    )


def test_strategy_argument_errors():
    @given(testing.conv2d_args(paddings=("FULL",)))
    def draw(call):
        pass

    with pytest.raises(ValueError, match="paddings must be"):
        draw()


def test_strategies_without_hypothesis_name_the_extra():
    script = """
        import sys
        sys.modules["hypothesis"] = None   # as if it were not installed
        import numpy as np
        from fastconv import testing
        testing.assert_allclose(np.ones(3), np.ones(3), reduction=9)   # the rest works
        try:
            testing.conv2d_args()
        except ImportError as error:
            assert "pip install 'fastconv[testing]'" in str(error), error
            print("ok")
    """
    assert run_python(script, timeout=120).stdout.strip() == "ok"


def test_public_names():
    assert set(testing.__all__) == {
        "assert_allclose",
        "conv2d_args",
        "depthwise_conv2d_args",
        "output_shape",
        "pool2d_args",
        "reduction_length",
        "tolerance",
        "conv2d_backprop_input_args",
        "conv2d_backprop_filter_args",
        "conv2d_transpose_args",
        "depthwise_conv2d_backprop_input_args",
        "depthwise_conv2d_backprop_filter_args",
        "pool2d_grad_args",
    }
    assert all(callable(getattr(testing, name)) for name in testing.__all__)
    assert fastconv.testing is testing and fastconv.reference is reference
    assert math.isclose(testing.tolerance(np.float32, 4), 3 * 8 * float(np.finfo(np.float32).eps))


ALL_PADDINGS = ("SAME", "VALID", "explicit", "SAME_LOWER", "onnx", "torch")


@settings(max_examples=60, deadline=None)
@given(
    testing.conv2d_args(
        paddings=ALL_PADDINGS, filter_formats=("HWIO", "OIHW"), algorithms=fastconv.conv.ALGORITHMS
    )
)
def test_conv2d_args_in_every_convention(call):
    got = call.run(fastconv)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


@settings(max_examples=40, deadline=None)
@given(testing.depthwise_conv2d_args(paddings=ALL_PADDINGS))
def test_depthwise_conv2d_args_in_every_convention(call):
    got = call.run(fastconv)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


@settings(max_examples=60, deadline=None)
@given(
    testing.pool2d_args(
        paddings=ALL_PADDINGS, max_dilation=2, ceil_mode=True, count_include_pad=True
    )
)
def test_pool2d_args_in_every_convention(call):
    got = call.run(fastconv)
    assert got.shape == call.output_shape
    testing.assert_allclose(got, call.run(reference), reduction=call.reduction, scale=call.scale)


def test_convention_switches_are_drawn():
    """Each switch shows up in the drawn calls (not silently left at its default)."""
    seen = set()

    # derandomize: the same 300 draws every run (a random run could miss one spelling)
    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(
        testing.pool2d_args(
            paddings=ALL_PADDINGS, max_dilation=2, ceil_mode=True, count_include_pad=True
        ),
        testing.conv2d_args(paddings=ALL_PADDINGS, filter_formats=("HWIO", "OIHW")),
    )
    def collect(pool, conv):
        seen.update(k for k in pool.kwargs)
        seen.update(k for k in conv.kwargs)
        seen.update(type(a).__name__ for a in (pool.args[3], conv.args[3]))
        seen.update(a for a in (pool.args[3], conv.args[3]) if isinstance(a, str))

    collect()
    assert {
        "pads",
        "dilations",
        "ceil_mode",
        "count_include_pad",
        "filter_format",
        "int",
        "tuple",
        "SAME",
        "SAME_LOWER",
        "VALID",
        "NOTSET",
    } <= seen, seen
