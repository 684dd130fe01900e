"""How each library runs one layer of the suite.

A runner is a zero-argument `call` (what gets timed) plus `result()` (the output as an NHWC
NumPy array, for the error column; never timed). Inputs are made once per layer, outside the
timed region, in the form each library is fastest with or is used with:

- fastconv:  NumPy in, NumPy out (it is a NumPy library); `algorithm=` as asked.
- tf-fn:     a `tf.function` called on pre-made tensors: TF's fastest path. The tensors are
             arguments, not captured constants, so Grappler cannot fold the whole layer away.
- tf-eager:  `tf.nn.*` on NumPy arrays, `.numpy()` on the result: the drop-in path that
             fastconv replaces.
- torch:     NCHW tensors made once (PyTorch's native layout), `torch.nn.functional`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import numpy as np

from .libraries import PEERS, REFERENCE, TF_EAGER, TF_FN, TORCH, load_tensorflow, load_torch
from .suite import Layer


def fastconv_label(algorithm: str) -> str:
    """Table/JSON name of fastconv with one algorithm: "fastconv" is the default `auto`."""
    return "fastconv" if algorithm == "auto" else f"fastconv[{algorithm}]"


@dataclass
class Runner:
    library: str
    call: Callable[[], Any]
    result: Callable[[], np.ndarray | None]  # None: nothing comparable (another padding split)
    note: str = ""  # anything that makes this library's run differ from the others'


@dataclass
class LayerData:
    """The layer's NumPy operands, made once and shared by every library."""

    layer: Layer
    x: np.ndarray
    w: np.ndarray | None = field(default=None)
    dy: np.ndarray | None = field(default=None)  # gradient rows: the output's gradient


def make_data(layer: Layer, dtype, seed: int = 0) -> LayerData:
    """Normal inputs; filters scaled by 1/sqrt(fan-in) so outputs stay near 1 and the
    relative error means the same on every layer."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    x = rng.standard_normal(layer.input).astype(dtype)
    if layer.is_pool:
        return LayerData(layer, x)
    kh, kw, cin = layer.window[:3]
    fan_in = kh * kw * (cin if layer.op == "conv2d" else 1)
    w = (rng.standard_normal(layer.window) / math.sqrt(fan_in)).astype(dtype)
    dy = rng.standard_normal(layer.output).astype(dtype) if layer.gradient else None
    return LayerData(layer, x, w, dy)


# -- the runners -------------------------------------------------------------------------


def fastconv_runner(data: LayerData, algorithm: str = "auto") -> Runner:
    import fastconv

    if data.layer.gradient:
        return _backward().fastconv_runner(data)
    layer, x, w = data.layer, data.x, data.w
    s, d, pad = layer.stride, layer.dilation, layer.padding
    if layer.op == "conv2d":
        call = lambda: fastconv.conv2d(x, w, s, pad, dilations=d, algorithm=algorithm)
    elif layer.op == "depthwise":
        call = lambda: fastconv.depthwise_conv2d(x, w, s, pad, dilations=d)
    else:
        pool = fastconv.max_pool2d if layer.op == "maxpool" else fastconv.avg_pool2d
        k = layer.window
        call = lambda: pool(x, k, s, pad)
    return Runner(fastconv_label(algorithm), call, call)


def reference_runner(data: LayerData) -> Runner:
    """fastconv.reference (plain NumPy, float64 sums): the error baseline without TF."""
    from fastconv import reference

    if data.layer.gradient:
        return _backward().reference_runner(data)
    layer, x, w = data.layer, data.x, data.w
    s, d, pad = layer.stride, layer.dilation, layer.padding
    if layer.op == "conv2d":
        call = lambda: reference.conv2d(x, w, s, pad, dilations=d)
    elif layer.op == "depthwise":
        call = lambda: reference.depthwise_conv2d(x, w, s, pad, dilations=d)
    else:
        pool = reference.max_pool2d if layer.op == "maxpool" else reference.avg_pool2d
        call = lambda: pool(x, layer.window, s, pad)
    return Runner(REFERENCE, call, call)


def _tf_op(tf, layer: Layer):
    """f(x, w) running the layer with tf.nn, in the argument forms each tf.nn op accepts."""
    s, d, pad = layer.stride, layer.dilation, layer.padding
    if layer.op == "conv2d":
        return lambda x, w: tf.nn.conv2d(x, w, s, pad, dilations=d)
    if layer.op == "depthwise":  # wants 4 strides and 2 dilations
        return lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, s, s, 1], pad, dilations=[d, d])
    pool = tf.nn.max_pool2d if layer.op == "maxpool" else tf.nn.avg_pool2d
    k = list(layer.window)
    return lambda x, w: pool(x, k, s, pad)


def tf_function_runner(tf, data: LayerData) -> Runner:
    if data.layer.gradient:
        return _backward().tf_function_runner(tf, data)
    op = _tf_op(tf, data.layer)
    x = tf.constant(data.x)
    w = tf.constant(data.w) if data.w is not None else None
    fn = tf.function(op)  # traced on the first call (the warm-up), reused after
    return Runner(TF_FN, lambda: fn(x, w), lambda: fn(x, w).numpy())


def tf_eager_runner(tf, data: LayerData) -> Runner:
    if data.layer.gradient:
        return _backward().tf_eager_runner(tf, data)
    op = _tf_op(tf, data.layer)
    x, w = data.x, data.w
    call = lambda: op(x, w).numpy()
    note = ""
    if data.layer.op == "maxpool" and x.dtype == np.float64:
        # tf.nn.max_pool2d converts a float64 NumPy array to float32 (TF 2.21): a cheaper
        # workload than asked for, so say so next to the figure.
        note = "tf.nn.max_pool2d computes float64 NumPy input in float32"
    return Runner(TF_EAGER, call, call, note)


def torch_padding(layer: Layer):
    """PyTorch's `padding=` for the layer, and whether it equals TF's split exactly.

    PyTorch pads symmetrically; TF SAME puts the odd cell at the bottom/right. At stride 1
    convolutions take padding="same" (PyTorch splits like TF). Otherwise one more cell at the
    top/left gives the same output size and the same work, one pixel shifted: equal for
    timing, not for comparing values (so no error is reported for torch there).
    """
    g = layer.geometry
    if (g.pad_top, g.pad_left) == (g.pad_bottom, g.pad_right):
        return (g.pad_top, g.pad_left), True
    if layer.op in ("conv2d", "depthwise") and layer.stride == 1:
        return "same", True
    return (max(g.pad_top, g.pad_bottom), max(g.pad_left, g.pad_right)), False


def torch_runner(torch, data: LayerData) -> Runner:
    import torch.nn.functional as F

    if data.layer.gradient:
        return _backward().torch_runner(torch, data)
    layer = data.layer
    x = torch.from_numpy(np.ascontiguousarray(data.x.transpose(0, 3, 1, 2)))  # NCHW
    padding, exact = torch_padding(layer)
    s, d = layer.stride, layer.dilation
    if layer.op == "maxpool":
        call = lambda: F.max_pool2d(x, layer.window, s, padding)
    elif layer.op == "avgpool":  # TF divides by the real cells only
        call = lambda: F.avg_pool2d(x, layer.window, s, padding, count_include_pad=False)
    else:
        kh, kw, cin, cout = layer.window
        assert data.w is not None  # convolutions have filters
        if layer.op == "depthwise":  # [kh, kw, C, M] -> OIHW [C*M, 1, kh, kw], channel c*M+m
            hwio = data.w.reshape(kh, kw, 1, cin * cout)
            groups = cin
        else:
            hwio, groups = data.w, layer.input[3] // cin
        w = torch.from_numpy(np.ascontiguousarray(hwio.transpose(3, 2, 0, 1)))
        call = lambda: F.conv2d(x, w, None, s, padding, d, groups)

    def result():
        y = call()
        if tuple(y.shape) != (layer.output[0], layer.output[3]) + layer.output[1:3]:
            raise RuntimeError(f"torch output shape {tuple(y.shape)} != {layer.output} (NCHW)")
        return y.numpy().transpose(0, 2, 3, 1) if exact else None

    note = "" if exact else "padding split differs from TF by one pixel (same work)"
    return Runner(TORCH, call, result, note)


def _backward():
    """The gradient rows' runners (runners_backward.py imports this module: imported late)."""
    from . import runners_backward

    return runners_backward


def make_runners(data: LayerData, algorithms=("auto",), peers=PEERS, threads: int = 1):
    """(runners, failures): every library asked for that can run this layer. A library that
    fails on it (an unsupported dtype, say) is left out with its message, not fatal.
    Explicit algorithms apply to conv2d only (pools, depthwise and gradients have one
    entry point each)."""
    if data.layer.op != "conv2d" or data.layer.gradient:
        algorithms = ("auto",)
    builders: list[tuple[str, Callable[[], Runner]]] = [
        (fastconv_label(a), functools.partial(fastconv_runner, data, a)) for a in algorithms
    ]
    tf = load_tensorflow(threads) if TF_FN in peers or TF_EAGER in peers else None
    torch = load_torch(threads) if TORCH in peers else None
    if tf is not None and TF_FN in peers:
        builders.append((TF_FN, lambda: tf_function_runner(tf, data)))
    if tf is not None and TF_EAGER in peers:
        builders.append((TF_EAGER, lambda: tf_eager_runner(tf, data)))
    if torch is not None and TORCH in peers:
        builders.append((TORCH, lambda: torch_runner(torch, data)))
    runners, failures = [], {}
    for label, build in builders:
        try:
            runners.append(build())
        except Exception as exc:  # noqa: BLE001 - a peer's failure is a result, not a crash
            failures[label] = f"{type(exc).__name__}: {exc}"
    return runners, failures
