"""Seeded random-argument fuzz of the public API against fastconv.reference.

    python tests/sanitize_fuzz.py [--pkg DIR] [--seed N] [--seconds S] [--cases N]

Random conv2d / depthwise_conv2d / max_pool2d / avg_pool2d calls: shapes (odd channel
counts, windows larger than the input, empty results), strides, dilations, SAME / VALID /
explicit padding, NHWC and NCHW, float16/32/64 and mixed dtypes, groups, bias and
activations, every algorithm, the thread count, and arrays in awkward memory: strided,
reversed, Fortran-order and misaligned views of the input, misaligned filters and bias,
out= arrays that are misaligned or overlap the input. Each result is compared with the
reference. Made to run under the sanitizers (tests/sanitize_run.py: --pkg imports an
instrumented build), where an out-of-bounds access or undefined behaviour ends the process
with a report; it runs as a plain script too.

Case i of seed N is generated from the seed sequence (N, i) alone: a failure prints the
command that replays it. Exit status 0: every result was right; 1: some were not.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

import numpy as np

from isa_stress import import_fastconv
from tolerance import assert_close

ACTIVATIONS = (None, "relu", "relu6", "sigmoid", "tanh")
FLOATS = (np.float16, np.float32, np.float64)


def misaligned(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of `a` that starts one byte past an aligned address."""
    raw = np.empty(a.nbytes + a.itemsize + 1, np.uint8)
    view = raw[1 : 1 + a.nbytes].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert a.size == 0 or not view.flags.aligned
    return view


def in_layout(rng, a: np.ndarray, layout: str) -> np.ndarray:
    """The values of `a` in another memory layout (same shape)."""
    if layout == "strided":
        big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
        big[tuple(slice(None, None, 2) for _ in a.shape)] = a
        return big[tuple(slice(None, None, 2) for _ in a.shape)]
    if layout == "reversed":
        axes = tuple(slice(None, None, -1) if rng.random() < 0.5 else slice(None) for _ in a.shape)
        return np.ascontiguousarray(a[axes])[axes]
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "misaligned":
        return misaligned(a)
    return a


def window_args(rng, fmt: str):
    """strides/ksize-style argument: an int, [h, w] or 4 values in fmt order."""
    h, w = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    form = rng.integers(3)
    if form == 0:
        return h
    if form == 1:
        return [h, w]
    return [1, h, w, 1] if fmt == "NHWC" else [1, 1, h, w]


def padding_arg(rng, fmt: str, limit=(3, 3)):
    """SAME, VALID, or explicit pairs (each below `limit` per axis)."""
    form = rng.integers(4)
    if form == 0:
        return "SAME"
    if form == 1:
        return "VALID"
    pairs = [
        [int(rng.integers(0, limit[0])), int(rng.integers(0, limit[0]))],
        [int(rng.integers(0, limit[1])), int(rng.integers(0, limit[1]))],
    ]
    if form == 2:
        return pairs
    return [[0, 0], *pairs, [0, 0]] if fmt == "NHWC" else [[0, 0], [0, 0], *pairs]


def make_case(seed: int, index: int):
    """Case `index`: (description, function name, input, positional arguments by name,
    filter and bias, keyword arguments, kind of out=, thread count, reduction length)."""
    rng = np.random.default_rng([seed, index])
    op = str(rng.choice(["conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d"]))
    fmt = str(rng.choice(["NHWC", "NCHW"]))
    dtype = FLOATS[rng.integers(3)]
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 13)), int(rng.integers(1, 13))
    c = int(rng.choice([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 24, 33]))
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    if fmt == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    layouts = ["dense", "strided", "reversed", "fortran", "misaligned"]
    x_layout = str(rng.choice(layouts))
    args, kwargs, arrays = {"fmt": fmt}, {}, {}
    reduction = 1
    if op in ("conv2d", "depthwise_conv2d"):
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        fdtype = dtype if rng.random() < 0.8 else FLOATS[rng.integers(3)]
        if op == "conv2d":
            groups = int(rng.choice([g for g in (1, 2, 3, c) if c % g == 0]))
            out_c = groups * int(rng.integers(1, 6))
            f = rng.standard_normal((kh, kw, c // groups, out_c)).astype(fdtype)
            reduction = kh * kw * (c // groups)
            if kh == kw == 3 and rng.random() < 0.4:  # Winograd-shaped
                kwargs["algorithm"] = str(rng.choice(["winograd", "auto"]))
                args["strides"], args["dilations"] = 1, 1
            else:
                kwargs["algorithm"] = str(rng.choice(["auto", "direct", "im2col"]))
        else:
            out_c = c * int(rng.integers(1, 4))
            f = rng.standard_normal((kh, kw, c, out_c // c)).astype(fdtype)
            reduction = kh * kw
        args.setdefault("strides", window_args(rng, fmt))
        args.setdefault("dilations", window_args(rng, fmt) if rng.random() < 0.4 else 1)
        args["padding"] = padding_arg(rng, fmt)
        arrays["filter"] = in_layout(
            rng, f, str(rng.choice(["dense", "dense", "misaligned", "reversed"]))
        )
        if rng.random() < 0.5:
            b = rng.standard_normal(out_c).astype(fdtype)
            arrays["bias"] = in_layout(rng, b, str(rng.choice(["dense", "misaligned", "strided"])))
            reduction += 1
        kwargs["activation"] = ACTIVATIONS[rng.integers(len(ACTIVATIONS))]
    else:
        ksize = window_args(rng, fmt)
        args["ksize"], args["strides"] = ksize, window_args(rng, fmt)
        kh, kw = (
            (ksize, ksize)
            if isinstance(ksize, int)
            else (
                (ksize[0], ksize[1])
                if len(ksize) == 2
                else ((ksize[1], ksize[2]) if fmt == "NHWC" else (ksize[2], ksize[3]))
            )
        )
        args["padding"] = padding_arg(rng, fmt, limit=(kh, kw))  # pool: padding < window
        reduction = kh * kw
    threads = int(rng.integers(1, 3))
    x_in = in_layout(rng, x, x_layout)
    out_kind = str(rng.choice(["none", "none", "aligned", "misaligned", "input"]))
    array_desc = {k: (a.shape, a.dtype.name, a.flags.aligned, a.strides) for k, a in arrays.items()}
    desc = (
        f"{op} x{tuple(x.shape)} {np.dtype(dtype).name} {x_layout} {args} {array_desc} "
        f"{kwargs} out={out_kind} threads={threads}"
    )
    return desc, op, x_in, args, arrays, kwargs, out_kind, threads, reduction


def call(module, op, x, args, arrays, kwargs, out=None):
    fn = getattr(module, op)
    if op in ("conv2d", "depthwise_conv2d"):
        return fn(
            x,
            arrays["filter"],
            args["strides"],
            args["padding"],
            args["fmt"],
            args["dilations"],
            bias=arrays.get("bias"),
            out=out,
            **kwargs,
        )
    return fn(x, args["ksize"], args["strides"], args["padding"], args["fmt"], out=out)


def run_case(fastconv, seed: int, index: int) -> str:
    """Run case `index`: '' if right, else a description of what went wrong."""
    from fastconv import reference

    desc, op, x, args, arrays, kwargs, out_kind, threads, reduction = make_case(seed, index)
    try:
        want = call(reference, op, x, args, arrays, kwargs)
    except ValueError:  # arguments the API rejects (as TF would): fastconv must reject too
        try:
            call(fastconv, op, x, args, arrays, kwargs)
        except ValueError:
            return ""
        return f"{desc}: the reference rejected the arguments, fastconv did not"
    fastconv.set_num_threads(threads)
    out = None
    if out_kind == "aligned":
        out = np.full(want.shape, np.nan, want.dtype)
    elif out_kind == "misaligned":
        out = misaligned(np.full(want.shape, np.nan, want.dtype))
    elif (
        out_kind == "input"
        and x.shape == want.shape
        and x.dtype == want.dtype
        and x.flags.c_contiguous
        and x.flags.writeable
    ):
        out = x = x.copy()  # out= is the input itself: the result must still be right
    got = call(fastconv, op, x, args, arrays, kwargs, out=out)
    if out is not None and got is not out:
        return f"{desc}: out= was not returned"
    try:
        # the reference rounds its float64 result once to the result dtype: so many eps of
        # that dtype (float16 results are computed in float32 and rounded the same way)
        assert_close(got, want, reduction, want.dtype)
    except AssertionError as e:
        return f"{desc}: {e}"
    return ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pkg", help="import fastconv from this folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--cases", type=int, default=None, help="this many cases, any time")
    parser.add_argument("--first", type=int, default=0, help="the first case's index")
    opts = parser.parse_args(argv)
    fastconv = import_fastconv(opts.pkg)
    start, index, failures = time.monotonic(), opts.first, 0
    while (
        index - opts.first < opts.cases
        if opts.cases is not None
        else time.monotonic() - start < opts.seconds
    ):
        try:
            problem = run_case(fastconv, opts.seed, index)
        except Exception:  # noqa: BLE001 - any exception is a failure of that case
            problem = f"case {index}: {traceback.format_exc()}"
        if problem:
            failures += 1
            print(
                f"FAIL case {index} (replay: python tests/sanitize_fuzz.py --seed "
                f"{opts.seed} --first {index} --cases 1): {problem}",
                flush=True,
            )
        index += 1
    print(
        f"{index - opts.first} cases, seed {opts.seed}, {failures} wrong results, "
        f"{time.monotonic() - start:.1f} s",
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
