"""Pooling in PyTorch's and ONNX's conventions: ceil_mode, count_include_pad, pooling
dilation, their padding spellings, the argmax in each framework's index convention. Every
result (fast path in both layouts, and the reference) is compared with PyTorch's
torch.nn.functional and ONNX's reference evaluator over seeded sweeps, never with
expectations of our own; where the engines disagree, docs/peers.md says which one fastconv
follows and the corner-case tests below pin it.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastconv
from fastconv import reference
from peer_ops import onnx_pool_defect, onnx_run, torch_f, torch_run  # noqa: F401 (fixture)
from tolerance import assert_close

FAST = {"max": fastconv.max_pool2d, "avg": fastconv.avg_pool2d}
REF = {"max": reference.max_pool2d, "avg": reference.avg_pool2d}
SWEEP = 300  # cases per sweep


def ours(kind, x, ksize, strides, padding, **options):
    """fastconv's NCHW result, after checking that the NHWC fast path and the reference give
    the same (max: exactly; avg: within the rounding of a k_h * k_w sum) and that the input
    is untouched."""
    before = x.copy()
    got = FAST[kind](x, ksize, strides, padding, "NCHW", **options)
    nhwc = FAST[kind](
        np.ascontiguousarray(x.transpose(0, 2, 3, 1)), ksize, strides, padding, "NHWC", **options
    )
    ref = REF[kind](x, ksize, strides, padding, "NCHW", **options)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(nhwc.transpose(0, 3, 1, 2), got)  # one summation order
    assert_close(got, ref, np.prod(ksize), x.dtype)
    return got


def draw_torch_case(rng):
    """A PyTorch-shaped call: symmetric (h, w) padding of at most half the window (its
    rule), ceil_mode, count_include_pad (avg), dilation (max: avg_pool2d has none)."""
    kind = ("max", "avg")[rng.integers(2)]
    k = tuple(int(v) for v in rng.integers(1, 5, 2))
    s = tuple(int(v) for v in rng.integers(1, 4, 2))
    d = tuple(int(v) for v in rng.integers(1, 4, 2)) if kind == "max" else (1, 1)
    p = tuple(int(rng.integers(0, ki // 2 + 1)) for ki in k)
    shape = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 4)),
        *(int(v) for v in rng.integers(1, 12, 2)),
    )
    dtype = (np.float32, np.float64)[rng.integers(2)]
    options = {"ceil_mode": bool(rng.integers(2))}
    if kind == "max":
        options["dilations"] = d
    else:
        options["count_include_pad"] = bool(rng.integers(2))
    return kind, rng.standard_normal(shape).astype(dtype), k, s, p, options


def test_sweep_against_pytorch(torch_f):
    rng = np.random.default_rng(1401)
    compared = 0
    for _ in range(SWEEP):
        kind, x, k, s, p, options = draw_torch_case(rng)
        torch_options = dict(options)
        if kind == "max":
            torch_options["dilation"] = torch_options.pop("dilations")
        fn = torch_f.max_pool2d if kind == "max" else torch_f.avg_pool2d
        try:
            want = torch_run(fn, x, k, s, p, **torch_options)
        except RuntimeError:  # beyond PyTorch's limits (a window wider than the input...)
            continue
        got = ours(kind, x, k, s, p, **options)  # PyTorch's int / (h, w) padding as it is
        assert_close(
            got, want, np.prod(k), x.dtype, err_msg=f"{kind} {x.shape} {k} {s} {p} {options}"
        )
        compared += 1
    assert compared > SWEEP * 0.8, compared


def draw_onnx_case(rng):
    """An ONNX-shaped call: auto_pad, or NOTSET with asymmetric pads under the window,
    ceil_mode (explicit pads only), dilations and count_include_pad."""
    kind = ("max", "avg")[rng.integers(2)]
    k = tuple(int(v) for v in rng.integers(1, 5, 2))
    s = tuple(int(v) for v in rng.integers(1, 4, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2))
    eff = [(ki - 1) * di + 1 for ki, di in zip(k, d)]
    auto_pad = ("NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")[rng.integers(5)]
    attrs = {"kernel_shape": list(k), "strides": list(s), "dilations": list(d)}
    options = {"dilations": d}
    if auto_pad == "NOTSET":
        pads = [int(rng.integers(0, eff[i % 2])) for i in range(4)]  # [top, left, bottom, right]
        attrs["pads"] = options["pads"] = pads
        attrs["ceil_mode"] = int(rng.integers(2))
        options["ceil_mode"] = bool(attrs["ceil_mode"])
    else:
        attrs["auto_pad"] = auto_pad
    if kind == "avg":
        attrs["count_include_pad"] = int(rng.integers(2))
        options["count_include_pad"] = bool(attrs["count_include_pad"])
    shape = (
        int(rng.integers(1, 3)),
        int(rng.integers(1, 4)),
        *(int(v) for v in rng.integers(1, 12, 2)),
    )
    dtype = (np.float32, np.float64)[rng.integers(2)]
    return kind, rng.standard_normal(shape).astype(dtype), k, s, auto_pad, attrs, options


def _ceil_adds_output(x, k, s, options) -> bool:
    floor = fastconv.reference.avg_pool2d(
        x[:1, :1], k, s, "NOTSET", "NCHW", **dict(options, ceil_mode=False, count_include_pad=False)
    )
    return (
        floor.shape
        != fastconv.reference.avg_pool2d(
            x[:1, :1], k, s, "NOTSET", "NCHW", **dict(options, count_include_pad=False)
        ).shape
    )


def test_sweep_against_onnx_reference():
    # Calls that meet a known evaluator defect are drawn again (about half of them, most
    # for dilation with auto_pad and MaxPool's stride-1 path); each defect's calls are
    # checked against PyTorch in the sweep above or the tests below.
    rng = np.random.default_rng(1402)
    compared = skipped = 0
    while compared < SWEEP:
        assert skipped < 3 * SWEEP, (compared, skipped)
        kind, x, k, s, auto_pad, attrs, options = draw_onnx_case(rng)
        op = "MaxPool" if kind == "max" else "AveragePool"
        if onnx_pool_defect(op, attrs, x.shape[2:]):
            skipped += 1
            continue
        try:
            got = ours(kind, x, k, s, auto_pad, **options)
        except ValueError as error:  # a window bigger than the padded input, as in ONNX
            assert "does not fit" in str(error), error
            continue
        if kind == "avg" and options.get("ceil_mode") and _ceil_adds_output(x, k, s, options):
            skipped += 1
            continue
        want = onnx_run(op, {"X": x}, **attrs)
        assert got.shape == want.shape, f"{kind} {x.shape} {attrs}"
        if kind == "max":  # windows of padding only: -inf (PyTorch), 0 in ONNX's evaluator
            empty = np.isneginf(got)
            assert not np.any(want[empty]), "ONNX's evaluator gave a max of no cells"
            got = np.where(empty, 0.0, got)
        assert_close(got, want, np.prod(k), x.dtype, err_msg=f"{kind} {x.shape} {attrs}")
        compared += 1


# ---------------------------------------------------------------- where engines disagree


def test_ceil_mode_drops_a_last_window_that_starts_in_the_right_padding(torch_f):
    # width 5, k 2, s 2, padding 1: rounding up gives 4 windows, the 4th starting at cell 5,
    # in the right padding: PyTorch (and ONNX's spec since opset 19) drop it; 3 remain.
    x = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    for kind, fn, extra in (
        ("max", torch_f.max_pool2d, {}),
        ("avg", torch_f.avg_pool2d, {"count_include_pad": False}),
    ):
        want = torch_run(fn, x, (1, 2), (1, 2), (0, 1), ceil_mode=True, **extra)
        got = ours(kind, x, (1, 2), (1, 2), (0, 1), ceil_mode=True)
        assert got.shape == want.shape == (1, 1, 1, 3)
        assert_close(got, want, 2, x.dtype)


def test_count_include_pad_does_not_count_cells_past_the_padding(torch_f):
    # width 6, k 4, s 3, padding 1, ceil_mode: the last window covers cells 5..8, of which
    # 5 is real, 6 padding and 7, 8 past the padding: PyTorch divides by 2, not 4 or 1.
    x = np.arange(1.0, 7.0).reshape(1, 1, 1, 6)
    want = torch_run(
        torch_f.avg_pool2d, x, (1, 4), (1, 3), (0, 1), ceil_mode=True, count_include_pad=True
    )
    got = ours("avg", x, (1, 4), (1, 3), (0, 1), ceil_mode=True, count_include_pad=True)
    assert_close(got, want, 4, x.dtype)
    assert got[0, 0, 0, -1] == 6.0 / 2


def test_onnx_reference_evaluator_disagreements_follow_the_spec(torch_f):
    # The evaluator's defects (tests/peer_ops.py) on these calls; fastconv gives PyTorch's
    # answer, which is also what ONNX's operator spec computes.
    x = np.arange(1.0, 7.0, dtype=np.float32).reshape(1, 1, 1, 6)
    attrs = {
        "kernel_shape": [1, 4],
        "strides": [1, 3],
        "pads": [0, 1, 0, 1],
        "ceil_mode": 1,
        "count_include_pad": 1,
    }
    want = torch_run(
        torch_f.avg_pool2d, x, (1, 4), (1, 3), (0, 1), ceil_mode=True, count_include_pad=True
    )
    got = ours(
        "avg",
        x,
        (1, 4),
        (1, 3),
        "NOTSET",
        pads=[0, 1, 0, 1],
        ceil_mode=True,
        count_include_pad=True,
    )
    assert_close(got, want, 4, x.dtype)
    assert got.shape == onnx_run("AveragePool", {"X": x}, **attrs).shape


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value")  # ONNX's
def test_dilated_windows_holding_only_padding_give_what_pytorch_gives(torch_f):
    # width 2, k 2, dilation 3, padding 1: the first window's taps are cells -1 and 2, both
    # padding. PyTorch returns -inf (max); avg: 0 over the divisor (ONNX's AveragePool).
    x = np.array([[[[1.0, 2.0]]]])
    want = torch_run(torch_f.max_pool2d, x, (1, 2), 1, (0, 1), dilation=(1, 3))
    got = ours("max", x, (1, 2), 1, (0, 1), dilations=(1, 3))
    np.testing.assert_array_equal(got, want)
    assert got[0, 0, 0, 0] == -np.inf
    for count_include_pad in (False, True):
        attrs = {
            "kernel_shape": [1, 2],
            "pads": [0, 1, 0, 1],
            "dilations": [1, 3],
            "count_include_pad": int(count_include_pad),
        }
        want = onnx_run("AveragePool", {"X": x}, **attrs)
        got = ours(
            "avg", x, (1, 2), 1, (0, 1), dilations=(1, 3), count_include_pad=count_include_pad
        )
        np.testing.assert_array_equal(got, want)


def test_explicit_padding_as_wide_as_the_window_is_refused():
    # every window at that edge would hold only padding; ONNX's evaluator returns NaN for an
    # average of no cells, PyTorch refuses padding over half the window
    x = np.ones((1, 1, 3, 3), np.float32)
    with pytest.raises(ValueError, match="smaller than the window"):
        fastconv.avg_pool2d(x, 2, 1, "NOTSET", "NCHW", pads=[0, 2, 0, 0])


# ---------------------------------------------------------------- return_argmax


def ours_argmax(x, ksize, strides, padding, index_format, **options):
    """fastconv's NCHW (output, argmax), after checking that the NHWC fast path (the index
    convention does not depend on the layout, except TF's) and the reference agree."""
    before = x.copy()
    got = fastconv.max_pool2d(
        x, ksize, strides, padding, "NCHW", return_argmax=True, index_format=index_format, **options
    )
    ref = reference.max_pool2d(
        x, ksize, strides, padding, "NCHW", return_argmax=True, index_format=index_format, **options
    )
    np.testing.assert_array_equal(x, before)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    if index_format != "tf":
        nhwc = fastconv.max_pool2d(
            np.ascontiguousarray(x.transpose(0, 2, 3, 1)),
            ksize,
            strides,
            padding,
            "NHWC",
            return_argmax=True,
            index_format=index_format,
            **options,
        )
        for a, b in zip(got, nhwc):
            np.testing.assert_array_equal(a, b.transpose(0, 3, 1, 2))
    return got


def _padding_only_window(x, k, s, p, options) -> bool:
    """Whether some window of this call holds padding only (dilation over a short input):
    return_argmax refuses it (PyTorch's index there points past the input)."""
    try:
        reference.max_pool2d(x[:1, :1], k, s, p, "NCHW", return_argmax=True, **options)
    except ValueError as error:
        assert "padding only" in str(error), error
        return True
    return False


def test_argmax_sweep_against_pytorch_return_indices(torch_f):
    rng = np.random.default_rng(1405)
    compared = dilated = 0
    for _ in range(SWEEP):
        _, x, k, s, p, options = draw_torch_case(rng)
        d = tuple(int(v) for v in rng.integers(1, 4, 2))
        options = {"ceil_mode": options["ceil_mode"], "dilations": d}
        try:
            want, want_index = torch_run(
                torch_f.max_pool2d,
                x,
                k,
                s,
                p,
                return_indices=True,
                ceil_mode=options["ceil_mode"],
                dilation=d,
            )
        except RuntimeError:
            continue
        if _padding_only_window(x, k, s, p, options):
            continue
        got, index = ours_argmax(x, k, s, p, "torch", **options)
        dilated += d != (1, 1)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(index, want_index, err_msg=f"{x.shape} {k} {s} {p} {options}")
        compared += 1
    assert compared > SWEEP * 0.6 and dilated > SWEEP * 0.5, (compared, dilated)


def test_argmax_of_a_window_of_padding_only_is_refused(torch_f):
    # width 2, k 2, dilation 3, padding 1: the first window's taps (-1 and 2) are padding;
    # PyTorch gives -inf and an index (2) past the input, so there is nothing to follow.
    x = np.array([[[[1.0, 2.0]]]])
    _, index = torch_run(
        torch_f.max_pool2d, x, (1, 2), 1, (0, 1), dilation=(1, 3), return_indices=True
    )
    assert index[0, 0, 0, 0] >= x.size
    for module in (fastconv, reference):
        with pytest.raises(ValueError, match="padding only"):
            module.max_pool2d(
                x,
                (1, 2),
                1,
                (0, 1),
                "NCHW",
                dilations=(1, 3),
                return_argmax=True,
                index_format="torch",
            )


def test_argmax_sweep_against_onnx_maxpool_indices():
    # dilated calls too (draw_onnx_case draws dilations; the evaluator's dilated auto_pad
    # defect is skipped), with pads under the dilated window
    rng = np.random.default_rng(1406)
    compared = skipped = dilated = 0
    while compared < SWEEP:
        assert skipped < 3 * SWEEP, (compared, skipped)
        kind, x, k, s, auto_pad, attrs, options = draw_onnx_case(rng)
        attrs["storage_order"] = storage_order = int(rng.integers(2))
        attrs.pop("count_include_pad", None)
        options.pop("count_include_pad", None)
        if onnx_pool_defect("MaxPool", attrs, x.shape[2:], indices=True):
            skipped += 1
            continue
        try:
            got, index = ours_argmax(
                x, k, s, auto_pad, "onnx", storage_order=storage_order, **options
            )
        except ValueError as error:
            assert "does not fit" in str(error) or "padding only" in str(error), error
            continue
        want, want_index = onnx_run("MaxPool", {"X": x}, indices=True, **attrs)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(index, want_index, err_msg=f"{x.shape} {attrs}")
        compared += 1
        dilated += max(attrs["dilations"]) > 1
    assert dilated > SWEEP * 0.3, dilated


def test_argmax_tf_convention_is_max_pool_with_argmax(rng):
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    for include in (False, True):
        want = fastconv.max_pool_with_argmax(x, 3, 2, "SAME", include_batch_in_index=include)
        got = fastconv.max_pool2d(
            x, 3, 2, "SAME", return_argmax=True, include_batch_in_index=include
        )
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "options, error, words",
    [
        ({"index_format": "caffe"}, ValueError, "index_format"),
        (
            {"index_format": "torch", "include_batch_in_index": True},
            ValueError,
            "include_batch_in_index",
        ),
        ({"storage_order": 1}, ValueError, "storage_order"),
        ({"index_format": "onnx", "storage_order": 2}, ValueError, "storage_order"),
        ({"dilations": 3, "padding": [[3, 3], [0, 0]]}, ValueError, "padding only"),
        ({"include_batch_in_index": "yes"}, TypeError, "include_batch_in_index"),
    ],
)
@pytest.mark.parametrize("module", [fastconv, reference], ids=["fast", "reference"])
def test_argmax_bad_options_are_clear_errors(module, options, error, words):
    with pytest.raises(error, match=words):
        options = {"padding": "VALID", **options}
        module.max_pool2d(np.ones((1, 2, 6, 2), np.float32), 2, 2, return_argmax=True, **options)


# ---------------------------------------------------------------- fast-path specifics


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_dilated_and_count_include_pad_on_every_isa_and_thread_count(
    isa, fmt, rng, restore_threads
):
    # sizes that take every kernel path: channels mode (NHWC, 19 channels), width mode
    # (NCHW), long rows (vectors) and a stride that splits dilation phases unevenly
    x = rng.standard_normal((2, 19, 23, 37)).astype(np.float32)
    if fmt == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    for kind, options in (
        ("max", {"dilations": (2, 3)}),
        ("avg", {"dilations": (3, 2), "count_include_pad": True, "ceil_mode": True}),
        ("avg", {"ceil_mode": True, "count_include_pad": True}),
    ):
        fastconv.set_num_threads(1)
        one = FAST[kind](x, (3, 2), (2, 3), [[2, 1], [1, 1]], fmt, **options)
        fastconv.set_num_threads(2)
        two = FAST[kind](x, (3, 2), (2, 3), [[2, 1], [1, 1]], fmt, **options)
        np.testing.assert_array_equal(one, two)
        want = REF[kind](x, (3, 2), (2, 3), [[2, 1], [1, 1]], fmt, **options)
        assert_close(one, want, 6, x.dtype, err_msg=f"{isa} {kind} {options}")


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
def test_dilated_argmax_on_every_isa_and_thread_count(isa, fmt, rng, restore_threads):
    # 37 channels: whole vectors and masked / scalar tails (NHWC), strided planes (NCHW);
    # a few exact ties, which the first cell in row-major order wins
    x = rng.standard_normal((2, 19, 23, 37)).astype(np.float32)
    x[:, ::3, ::4] = 1.5
    if fmt == "NHWC":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    for index_format in ("tf", "torch", "onnx"):
        args = (x, (3, 2), (2, 3), [[2, 1], [1, 1]], fmt)
        options = {"dilations": (2, 3), "return_argmax": True, "index_format": index_format}
        fastconv.set_num_threads(1)
        one = fastconv.max_pool2d(*args, **options)
        fastconv.set_num_threads(2)
        two = fastconv.max_pool2d(*args, **options)
        want = reference.max_pool2d(*args, **options)
        for a, b, c in zip(one, two, want):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c, err_msg=f"{isa} {index_format}")


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda x: fastconv.max_pool2d(x, 2, 2, "SAME", ceil_mode=True), ValueError, "ceil_mode"),
        (
            lambda x: fastconv.avg_pool2d(x, 2, 2, "SAME_LOWER", ceil_mode=True),
            ValueError,
            "ceil_mode",
        ),
        (lambda x: fastconv.max_pool2d(x, 2, 2, ceil_mode="yes"), TypeError, "ceil_mode"),
        (
            lambda x: fastconv.avg_pool2d(x, 2, 2, count_include_pad=2),
            TypeError,
            "count_include_pad",
        ),
        (lambda x: fastconv.max_pool2d(x, 2, 2, "VALID", pads=[1, 1, 1, 1]), ValueError, "NOTSET"),
        (lambda x: fastconv.max_pool2d(x, 2, 2, "NOTSET", pads=[1, 1, 1]), ValueError, "pads"),
        (lambda x: fastconv.max_pool2d(x, 2, 2, [1, 1, 1, 1]), ValueError, "4 ints"),
        (lambda x: fastconv.max_pool2d(x, 2, 2, dilations=0), ValueError, "dilations"),
    ],
)
@pytest.mark.parametrize("module", ["fast", "reference"])
def test_bad_combinations_are_clear_errors(call, error, words, module, monkeypatch):
    if module == "reference":
        for name in ("max_pool2d", "avg_pool2d"):
            monkeypatch.setattr(fastconv, name, getattr(reference, name))
    with pytest.raises(error, match=words):
        call(np.ones((1, 4, 4, 1), np.float32))
