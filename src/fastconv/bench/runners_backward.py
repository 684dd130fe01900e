"""How each library runs a gradient row of `fastconv bench --backward` (suite.backward):
the input or filter gradient of a convolution layer, with the same conventions as the
forward runners (runners.py):

- fastconv:  conv2d_backprop_input / _filter and the depthwise ones, NumPy in and out.
- tf-fn:     tf.raw_ops.Conv2DBackpropInput / Conv2DBackpropFilter (and the
             DepthwiseConv2dNative ones) in a tf.function, on pre-made tensors.
- tf-eager:  tf.compat.v1.nn.conv2d_backprop_input / _filter and
             tf.nn.depthwise_conv2d_backprop_input / _filter on NumPy arrays, `.numpy()`.
- torch:     torch.nn.grad.conv2d_input / conv2d_weight on NCHW tensors made once
             (depthwise as the grouped convolution it is).

Every result is returned in fastconv's layout (NHWC input gradient, HWIO / [kh, kw, C, M]
filter gradient) for the error column.
"""

from __future__ import annotations

import numpy as np

from .libraries import REFERENCE, TF_EAGER, TF_FN, TORCH
from .runners import LayerData, Runner, fastconv_label, torch_padding
from .suite import Layer

# (input gradient, filter gradient) function names, by op, in fastconv and its reference.
_FASTCONV = {
    "conv2d": ("conv2d_backprop_input", "conv2d_backprop_filter"),
    "depthwise": ("depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter"),
}


def available(module, layer: Layer) -> bool:
    """Whether `module` (fastconv or fastconv.reference) has this row's gradient op."""
    return hasattr(module, _FASTCONV[layer.op][layer.gradient == "filter"])


def _module_call(module, data: LayerData):
    """The row's gradient op of fastconv or its reference, as a zero-argument call."""
    layer = data.layer
    op = getattr(module, _FASTCONV[layer.op][layer.gradient == "filter"])
    s, d, pad = layer.stride, layer.dilation, layer.padding
    if layer.gradient == "input":
        return lambda: op(layer.input, data.w, data.dy, s, pad, dilations=d)
    return lambda: op(data.x, layer.window, data.dy, s, pad, dilations=d)


def fastconv_runner(data: LayerData) -> Runner:
    import fastconv

    call = _module_call(fastconv, data)
    return Runner(fastconv_label("auto"), call, call)


def reference_runner(data: LayerData) -> Runner:
    from fastconv import reference

    call = _module_call(reference, data)
    return Runner(REFERENCE, call, call)


def _tf_raw(tf, layer: Layer):
    """f(a, dy) with TF's raw gradient op: a is the filter (input gradient) or the input
    (filter gradient); the other shape is a constant size vector, as in a training graph."""
    s, d = layer.stride, layer.dilation
    common = dict(strides=[1, s, s, 1], padding=layer.padding, dilations=[1, d, d, 1])
    raw = tf.raw_ops
    if layer.gradient == "input":
        sizes = tf.constant(layer.input, tf.int32)
        op = (
            raw.Conv2DBackpropInput
            if layer.op == "conv2d"
            else raw.DepthwiseConv2dNativeBackpropInput
        )
        return lambda w, dy: op(input_sizes=sizes, filter=w, out_backprop=dy, **common)
    sizes = tf.constant(layer.window, tf.int32)
    op = (
        raw.Conv2DBackpropFilter
        if layer.op == "conv2d"
        else raw.DepthwiseConv2dNativeBackpropFilter
    )
    return lambda x, dy: op(input=x, filter_sizes=sizes, out_backprop=dy, **common)


def _operand(data: LayerData) -> np.ndarray:
    """The array besides out_backprop: the filter (input gradient) or the input."""
    operand = data.w if data.layer.gradient == "input" else data.x
    assert operand is not None  # LayerData of a convolution layer has both
    return operand


def tf_function_runner(tf, data: LayerData) -> Runner:
    fn = tf.function(_tf_raw(tf, data.layer))
    a, dy = tf.constant(_operand(data)), tf.constant(data.dy)
    return Runner(TF_FN, lambda: fn(a, dy), lambda: fn(a, dy).numpy())


def tf_eager_runner(tf, data: LayerData) -> Runner:
    layer = data.layer
    s, d, pad = layer.stride, layer.dilation, layer.padding
    strides, dil = [1, s, s, 1], [1, d, d, 1]
    a, dy = _operand(data), data.dy
    if layer.op == "conv2d":
        v1 = tf.compat.v1.nn
        if layer.gradient == "input":
            op = lambda: v1.conv2d_backprop_input(layer.input, a, dy, strides, pad, dilations=dil)
        else:
            op = lambda: v1.conv2d_backprop_filter(a, layer.window, dy, strides, pad, dilations=dil)
    elif layer.gradient == "input":
        op = lambda: tf.nn.depthwise_conv2d_backprop_input(
            layer.input, a, dy, strides, pad, dilations=dil
        )
    else:
        op = lambda: tf.nn.depthwise_conv2d_backprop_filter(
            a, layer.window, dy, strides, pad, dilations=dil
        )
    call = lambda: op().numpy()
    return Runner(TF_EAGER, call, call)


def torch_runner(torch, data: LayerData) -> Runner:
    layer = data.layer
    kh, kw, cin, cout = layer.window
    padding, exact = torch_padding(layer)
    if padding == "same":  # torch.nn.grad takes numbers: the TF split, when symmetric
        g = layer.geometry
        padding, exact = (
            (g.pad_top, g.pad_left),
            (g.pad_top, g.pad_left) == (g.pad_bottom, g.pad_right),
        )
    assert data.w is not None and data.dy is not None  # a gradient layer's operands
    if layer.op == "depthwise":  # [kh, kw, C, M] -> OIHW [C*M, 1, kh, kw], channel c*M+m
        hwio, groups = data.w.reshape(kh, kw, 1, cin * cout), cin
    else:
        hwio, groups = data.w, layer.input[3] // cin
    nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
    dy = nchw(data.dy)
    args = dict(stride=layer.stride, padding=padding, dilation=layer.dilation, groups=groups)
    if layer.gradient == "input":
        w = torch.from_numpy(np.ascontiguousarray(hwio.transpose(3, 2, 0, 1)))
        n, h, wd, c = layer.input
        call = lambda: torch.nn.grad.conv2d_input((n, c, h, wd), w, dy, **args)
        to_fastconv = lambda r: r.numpy().transpose(0, 2, 3, 1)
    else:
        x = nchw(data.x)
        shape = tuple(hwio.transpose(3, 2, 0, 1).shape)
        call = lambda: torch.nn.grad.conv2d_weight(x, shape, dy, **args)
        to_fastconv = lambda r: r.numpy().transpose(2, 3, 1, 0).reshape(layer.window)
    note = "" if exact else "padding split differs from TF by one pixel (same work)"
    return Runner(TORCH, call, lambda: to_fastconv(call()) if exact else None, note)
