"""Ways around TensorFlow bugs that would crash the test process, each exact: TF still
computes every value the tests compare against, through other ops."""

from __future__ import annotations

import tensorflow as tf

from _cases import tf_padding


def avoid_strided_1x1_filter_grad(x, window, strides, padding):
    """(x, strides, padding) for a convolution whose filter gradient TF (2.21, oneDNN on)
    can compute without corrupting the heap.

    TF's oneDNN filter gradient of a 1x1 window with a stride of 2 along either axis
    (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, and so every
    tf.GradientTape gradient through such a convolution) writes past its buffers: glibc
    aborts ("free(): invalid pointer", "corrupted size vs. prev_size") or the process
    segfaults a few calls later, at random (found with MALLOC_CHECK_=3; strides 1, 3, 4 and
    larger windows are clean). A 1x1 window reads one pixel per output, so the same
    convolution is the stride-1 VALID one of the padded input's strided subsample."""
    if tuple(window) != (1, 1) or tuple(strides) == (1, 1):
        return x, strides, padding
    if not isinstance(padding, str):
        x = tf.pad(x, tf_padding(padding))
    sh, sw = strides
    return x[:, ::sh, ::sw, :], (1, 1), "VALID"
