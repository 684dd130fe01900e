"""The layer suite: the one list of layers that `fastconv bench` and benchmarks/ both run.

Each layer is a real workload (the seed tutorials, LeNet / Keras MNIST, ResNet-50, VGG-16,
MobileNet v1) or probes one thing (`tiny-8x8`: per-call overhead). Shapes are NHWC, filters
HWIO, as in tf.nn. Output sizes come from fastconv's own geometry module, so the padding
arithmetic is not written a second time here.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from functools import cached_property

from .._geometry import Window, conv_shape, depthwise_shape, pool_window

OPS = ("conv2d", "depthwise", "maxpool", "avgpool")
# `fastconv bench --backward`: the gradients of a convolution layer, one row each, named
# "<layer>/<suffix>".
GRADIENTS = {"input": "dx", "filter": "dw"}


@dataclass(frozen=True)
class Layer:
    """One benchmark case.

    window: conv2d  -> HWIO filter (kh, kw, in_channels / groups, out_channels);
            depthwise -> (kh, kw, in_channels, channel_multiplier);
            pools   -> (kh, kw).
    """

    name: str
    op: str
    input: tuple[int, int, int, int]
    window: tuple[int, ...]
    stride: int = 1
    dilation: int = 1
    padding: str = "SAME"
    source: str = ""
    gradient: str = ""  # "": the forward op; "input" / "filter": its gradient (GRADIENTS)

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"{self.name}: op must be one of {OPS}, got {self.op!r}")
        if self.gradient and (self.gradient not in GRADIENTS or self.is_pool):
            raise ValueError(
                f"{self.name}: gradient must be one of {tuple(GRADIENTS)} of a "
                f"convolution, got {self.gradient!r} of {self.op}"
            )

    @property
    def is_pool(self) -> bool:
        return self.op in ("maxpool", "avgpool")

    @cached_property
    def geometry(self) -> Window:
        """The resolved window (output size, TF's SAME padding split)."""
        if self.op == "conv2d":
            return conv_shape(
                self.input, self.window, self.stride, self.padding, "NHWC", self.dilation
            ).win
        if self.op == "depthwise":
            return depthwise_shape(
                self.input, self.window, self.stride, self.padding, "NHWC", self.dilation
            ).win
        return pool_window(self.input, self.window, self.stride, self.padding, "NHWC")

    @property
    def out_channels(self) -> int:
        if self.op == "conv2d":
            return self.window[3]
        if self.op == "depthwise":
            return self.window[2] * self.window[3]
        return self.input[3]

    @property
    def output(self) -> tuple[int, int, int, int]:
        g = self.geometry
        return (g.batch, g.out_h, g.out_w, self.out_channels)

    @property
    def result_shape(self) -> tuple[int, ...]:
        """What the layer computes: the forward output, or the gradient of the input or of
        the filter (the shape of what it is the gradient of)."""
        return {"": self.output, "input": self.input, "filter": self.window}[self.gradient]

    @property
    def filter_shape(self) -> tuple[int, ...] | None:
        return None if self.is_pool else self.window

    @property
    def flops(self) -> int:
        """Arithmetic work: 2 per multiply-add for convolutions (padding taps included, as
        every library counts them; each gradient has the forward op's multiply-adds); one
        compare or add per window cell for pools."""
        n, oh, ow, oc = self.output
        kh, kw = self.window[:2]
        if self.op == "conv2d":
            return 2 * n * oh * ow * oc * kh * kw * self.window[2]
        if self.op == "depthwise":
            return 2 * n * oh * ow * oc * kh * kw
        return n * oh * ow * oc * kh * kw

    def bytes(self, itemsize: int = 4) -> int:
        """Compulsory memory traffic: input + filter + output read or written once. Pooling is
        memory-bound, so it is reported in GB/s of this figure."""
        elements = _prod(self.input) + _prod(self.output)
        if not self.is_pool:
            elements += _prod(self.window)
        return elements * itemsize


def _prod(shape) -> int:
    p = 1
    for s in shape:
        p *= s
    return p


def _conv(name, input, filters, stride=1, padding="SAME", source="", dilation=1):
    return Layer(name, "conv2d", input, filters, stride, dilation, padding, source)


# The layer suite, in the order the table prints it.
LAYERS: tuple[Layer, ...] = (
    # Seed tutorials (a kitten photo through a 3x3/3 filter, then pooled).
    _conv("kitten-gray-3x3s3", (1, 134, 240, 1), (3, 3, 1, 1), 3, source="tutorial"),
    _conv("kitten-rgb-3x3s3", (1, 134, 240, 3), (3, 3, 3, 3), 3, source="tutorial"),
    Layer("kitten-maxpool-3x3s3", "maxpool", (1, 45, 80, 3), (3, 3), 3, source="tutorial"),
    Layer("kitten-avgpool-3x3s3", "avgpool", (1, 45, 80, 3), (3, 3), 3, source="tutorial"),
    # Image filtering: a 720p grayscale frame through a 5x5 filter.
    _conv("gray-720p-5x5", (1, 720, 1280, 1), (5, 5, 1, 1), source="image filter"),
    # LeNet / Keras MNIST (small images, real batches).
    _conv("lenet-c1", (64, 28, 28, 1), (5, 5, 1, 32), source="LeNet"),
    _conv("lenet-c2", (64, 14, 14, 32), (5, 5, 32, 64), source="LeNet"),
    Layer("lenet-pool", "maxpool", (64, 28, 28, 32), (2, 2), 2, source="LeNet"),
    _conv("keras-mnist-c1", (32, 28, 28, 1), (3, 3, 1, 32), source="Keras MNIST"),
    # AlexNet's first layer: 11x11, stride 4, 3 -> 64 channels.
    _conv("alexnet-c1", (1, 227, 227, 3), (11, 11, 3, 64), 4, padding="VALID", source="AlexNet"),
    # ResNet-50, batch 1.
    _conv("r50-conv1", (1, 224, 224, 3), (7, 7, 3, 64), 2, source="ResNet-50"),
    _conv("r50-3x3-56", (1, 56, 56, 64), (3, 3, 64, 64), source="ResNet-50"),
    _conv("r50-3x3-28", (1, 28, 28, 128), (3, 3, 128, 128), source="ResNet-50"),
    _conv("r50-3x3-14", (1, 14, 14, 256), (3, 3, 256, 256), source="ResNet-50"),
    _conv("r50-3x3-7", (1, 7, 7, 512), (3, 3, 512, 512), source="ResNet-50"),
    _conv("r50-1x1-56", (1, 56, 56, 256), (1, 1, 256, 64), padding="VALID", source="ResNet-50"),
    Layer("r50-maxpool", "maxpool", (1, 112, 112, 64), (3, 3), 2, source="ResNet-50"),
    # VGG-16.
    _conv("vgg-3x3-224", (1, 224, 224, 64), (3, 3, 64, 64), source="VGG-16"),
    _conv("b8-3x3-56", (8, 56, 56, 64), (3, 3, 64, 64), source="VGG-16, batch 8"),
    # Grouped convolutions (groups = input channels / filters.shape[2]).
    _conv("resnext-3x3-56-g32", (1, 56, 56, 128), (3, 3, 4, 128), source="ResNeXt-50 32x4d"),
    _conv(
        "shufflenet-1x1-28-g3",
        (1, 28, 28, 240),
        (1, 1, 80, 240),
        padding="VALID",
        source="ShuffleNet v1 (g=3)",
    ),
    _conv("alexnet-c2-g2", (1, 27, 27, 96), (5, 5, 48, 256), source="AlexNet (2 groups)"),
    # MobileNet v1.
    Layer("mbv1-dw-112", "depthwise", (1, 112, 112, 32), (3, 3, 32, 1), source="MobileNet v1"),
    _conv("mbv1-pw-56", (1, 56, 56, 128), (1, 1, 128, 128), padding="VALID", source="MobileNet v1"),
    # Pooling on big batches (memory-bound).
    Layer("max-3x3s2-b8", "maxpool", (8, 112, 112, 64), (3, 3), 2, source="pooling"),
    Layer(
        "avg-2x2s2-b8", "avgpool", (8, 56, 56, 256), (2, 2), 2, padding="VALID", source="pooling"
    ),
    # Per-call overhead: almost no arithmetic.
    _conv("tiny-8x8", (1, 8, 8, 1), (3, 3, 1, 1), source="overhead"),
)

BY_NAME = {layer.name: layer for layer in LAYERS}

# The convolution layers whose gradients `fastconv bench --backward` times.
BACKWARD = (
    "lenet-c1",
    "lenet-c2",
    "keras-mnist-c1",
    "r50-conv1",
    "r50-3x3-56",
    "r50-3x3-28",
    "r50-3x3-14",
    "r50-3x3-7",
    "r50-1x1-56",
    "vgg-3x3-224",
    "b8-3x3-56",
    "mbv1-dw-112",
)


def backward(layers, gradients=tuple(GRADIENTS)) -> list[Layer]:
    """The gradient rows of the BACKWARD layers among `layers`, grouped by gradient."""
    chosen = [layer for layer in layers if layer.name in BACKWARD]
    return [
        replace(layer, name=f"{layer.name}/{GRADIENTS[g]}", gradient=g)
        for g in gradients
        for layer in chosen
    ]


def select(patterns: str | None) -> list[Layer]:
    """The layers whose name matches any comma-separated pattern: a glob (`r50-3x3-*`) or,
    without glob characters, a substring (`tiny`, `pool`). None or "" selects all."""
    if not patterns:
        return list(LAYERS)
    parts = [p.strip() for p in patterns.split(",") if p.strip()]

    def matches(name: str, pattern: str) -> bool:
        if any(ch in pattern for ch in "*?["):
            return fnmatch.fnmatchcase(name, pattern)
        return pattern in name

    return [layer for layer in LAYERS if any(matches(layer.name, p) for p in parts)]
