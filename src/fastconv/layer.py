"""fastconv.Conv2D: a convolution whose filters are copied and packed once, for repeated calls.

conv2d rearranges its filters on every call into the layout the algorithm reads (the GEMM's
weight panels, Winograd's transformed filters, the grouped kernel's rotated filters); for a
layer applied to many inputs that is repeated work, as long as the arithmetic itself on
small images (r50-3x3-7: 9.4 MB of weights, 49 output pixels). Conv2D keeps its own copy of
the filters and their packed forms and runs conv2d's plans with them: the same code path,
the same bits.
"""

from __future__ import annotations

import threading

import numpy as np

from . import _core
from ._arrays import float_array, is_cupy
from ._geometry import (
    OIHW_TO_HWIO,
    normalize_data_format,
    normalize_filter_format,
    normalize_hw,
)
from .conv import _plan_conv2d, conv2d_plan

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _kept(value):
    """An argument as the layer keeps it: lists (explicit padding, strides) as tuples and
    arrays as read-only copies, so that the caller changing theirs later changes nothing."""
    if isinstance(value, (list, tuple)):
        return tuple(_kept(v) for v in value)
    if isinstance(value, np.ndarray):
        return _frozen(value.copy())
    return value


class Conv2D:
    """A 2-D convolution layer: ``fastconv.conv2d`` with its filters (and bias) fixed.

    ``layer = Conv2D(filters, strides, padding, ...)`` takes conv2d's arguments, names and
    conventions, checked as conv2d checks them; ``layer(x)`` equals
    ``conv2d(x, filters, strides, padding, ..., algorithm=layer.algorithm_for(x))`` bit for
    bit, for any batch and image size, without rearranging the filters on every call: each
    algorithm's packed form is made on the first call that runs it (per input channel count
    and ISA) and kept. "auto" picks for weights packed once (see algorithm_for), so it may
    run another algorithm than conv2d's "auto"; an explicit algorithm is conv2d's.

    The filters' dtype, float32 or float64, is the layer's: an input of another dtype is a
    TypeError (convert it, or make the layer from converted filters). bias is cast to it.
    The layer holds private copies (changing the caller's arrays later has no effect),
    exposed read-only; calls from several threads at once are safe. A pickled layer holds its
    filters and arguments and packs again where it is unpickled (the packed form depends on
    the CPU). CuPy inputs are not supported (use fastconv.gpu.conv2d).
    """

    __slots__ = ("_filters", "_bias", "_args", "_packs", "_runs", "_lock", "__weakref__")

    def __init__(
        self,
        filters,
        strides=1,
        padding="VALID",
        *,
        data_format="NHWC",
        dilations=1,
        bias=None,
        activation=None,
        algorithm="auto",
        filter_format: str = "HWIO",
        pads=None,
    ):
        f = float_array(filters, "filters")
        if f.dtype not in _DTYPES:
            raise TypeError(
                f"Conv2D's filters must be float32 or float64, got {f.dtype} "
                "(convert them explicitly, e.g. with .astype(np.float32))"
            )
        ffmt = normalize_filter_format(filter_format)
        if ffmt == "OIHW" and f.ndim == 4:
            f = f.transpose(OIHW_TO_HWIO)
        # the private copy, in the dense HWIO the kernels and the packing read
        f = _frozen(np.array(f, dtype=f.dtype, order="C", copy=True))
        b = None
        if bias is not None:
            b = _frozen(np.array(float_array(bias, "bias"), dtype=f.dtype, order="C", copy=True))
        self._args = tuple(
            _kept(a)
            for a in (strides, padding, data_format, dilations, activation, algorithm, pads)
        )
        strides, padding, data_format, dilations, activation, algorithm, pads = self._args
        # conv2d's checks, once, on an input of one group that the window fits exactly
        fmt = normalize_data_format(data_format)
        if f.ndim == 4:
            dil = normalize_hw(1 if dilations is None else dilations, "dilations", fmt)
            size = [(int(k) - 1) * d + 1 for k, d in zip(f.shape[:2], dil)]
            shape = (
                (1, size[0], size[1], f.shape[2])
                if fmt == "NHWC"
                else (1, f.shape[2], size[0], size[1])
            )
        else:
            shape = (1, 1, 1, 1)  # conv_shape rejects the filters' rank
        # only its shape and dtype are read: no memory behind it, however large the window
        probe = np.broadcast_to(np.zeros((), f.dtype), shape)
        _plan_conv2d(
            probe,
            f,
            b,
            strides,
            padding,
            data_format,
            dilations,
            activation,
            algorithm,
            "HWIO",
            pads,
        )
        self._filters, self._bias = f, b
        self._packs: dict = {}
        self._runs: dict = {}  # (shape, dtype, ISA) -> (plan, packed filters)
        self._lock = threading.Lock()

    def __call__(self, x, *, out=None):
        """The convolution of x (conv2d's input: 4-D in data_format, the filters' dtype);
        out: a C-contiguous array of the result's shape and dtype to write into."""
        if is_cupy(x):
            raise TypeError("Conv2D runs on the CPU; for a CuPy input use fastconv.gpu.conv2d")
        x = float_array(x, "input")
        f, b = self._filters, self._bias
        if x.dtype != f.dtype:
            raise TypeError(
                f"input has dtype {x.dtype} but this Conv2D computes in {f.dtype} "
                f"(its filters'): pass x.astype(np.{f.dtype})"
            )
        plan, packed = self._run(x)
        return plan(x, f, b, out, packed)

    def algorithm_for(self, x) -> str:
        """The algorithm ``layer(x)`` runs for an input of x's shape (x: an array, or
        anything with ``.shape`` and ``.dtype``): the layer's own, or what "auto" picks with
        weights packed once."""
        return self._plan(x).algorithm()

    def _run(self, x):
        """The plan and packed filters for x, resolved once per input shape, dtype and ISA
        (the choice depends on nothing else): a repeated call asks C for nothing but the
        ISA, where resolving took four calls (the plan's choice with and without packed
        weights, twice)."""
        key = (x.shape, x.dtype, _core.get_isa())
        run = self._runs.get(key)
        if run is None:
            plan = self._plan(x)
            run = (plan, self._packed(plan))
            if len(self._runs) >= 64:  # a layer fed ever-new shapes re-resolves
                self._runs.clear()
            self._runs[key] = run
        return run

    def _plan(self, x):
        """conv2d's plan for x, with "auto" resolved as for weights packed once: without
        the cost of packing on every call, Winograd pays on fewer tiles and the GEMM on fewer
        pixels than conv2d's rule allows (r50-3x3-7: Winograd 1.4 ms, where conv2d's "auto"
        runs the direct kernel at 4.1), so the layer may pick another algorithm than conv2d
        and then differ from it by rounding; with an explicit algorithm both are the same."""
        f, b = self._filters, self._bias
        strides, padding, data_format, dilations, activation, algorithm, pads = self._args
        plan = conv2d_plan(
            x, f, b, strides, padding, data_format, dilations, activation, algorithm, "HWIO", pads
        )
        code = plan.algorithm_code(prepacked=True)
        if code != plan.algorithm_code():  # only under "auto": run the choice explicitly
            name = next(n for n, c in _core.ALGORITHM_CODES.items() if c == code)
            plan = conv2d_plan(
                x, f, b, strides, padding, data_format, dilations, activation, name, "HWIO", pads
            )
        return plan

    def _packed(self, plan):
        """The filters packed for the algorithm this plan runs now, with the active ISA
        (None where that algorithm reads them as they are), made on first use."""
        code, isa = plan.algorithm_code(), _core.get_isa()
        key = (plan.nhwc_shapes[0][3], code, isa)  # input channels: the groups
        try:
            return self._packs[key]
        except KeyError:
            pass
        with self._lock:  # one thread packs; the others wait for its result
            if key not in self._packs:
                self._packs[key] = plan.desc.pack(self._filters, key[0], code, isa)
            return self._packs[key]

    @property
    def packed_nbytes(self) -> int:
        """Bytes of packed filters this layer holds now (one form per algorithm, input
        channel count and ISA its calls have run with)."""
        with self._lock:
            return sum(p.nbytes for p in self._packs.values() if p is not None)

    @property
    def filters(self) -> np.ndarray:
        """The layer's filters, HWIO ``[kh, kw, in_channels / groups, out_channels]``
        (read-only; an OIHW filter was transposed once)."""
        return self._filters

    @property
    def bias(self) -> np.ndarray | None:
        return self._bias

    @property
    def dtype(self) -> np.dtype:
        return self._filters.dtype

    @property
    def strides(self):
        return self._args[0]

    @property
    def padding(self):
        return self._args[1]

    @property
    def data_format(self):
        return self._args[2]

    @property
    def dilations(self):
        return self._args[3]

    @property
    def activation(self):
        return self._args[4]

    @property
    def algorithm(self) -> str:
        return self._args[5]

    @property
    def pads(self):
        return self._args[6]

    def __repr__(self) -> str:
        strides, padding, data_format, dilations, activation, algorithm, pads = self._args
        extra = "".join(
            f", {name}={value!r}"
            for name, value, default in (
                ("dilations", dilations, 1),
                ("pads", pads, None),
                ("activation", activation, None),
                ("algorithm", algorithm, "auto"),
            )
            if value != default
        )
        bias = "" if self._bias is None else f", bias=({self._bias.shape[0]},)"
        return (
            f"Conv2D(filters={tuple(self._filters.shape)} HWIO {self._filters.dtype}, "
            f"strides={strides!r}, padding={padding!r}, data_format={data_format!r}"
            f"{extra}{bias})"
        )

    def __reduce__(self):
        strides, padding, data_format, dilations, activation, algorithm, pads = self._args
        return (
            _rebuild,
            (
                self._filters,
                self._bias,
                strides,
                padding,
                data_format,
                dilations,
                activation,
                algorithm,
                pads,
            ),
        )


def _rebuild(filters, bias, strides, padding, data_format, dilations, activation, algorithm, pads):
    """Unpickling: a new layer from the pickled filters and arguments (packed anew)."""
    return Conv2D(
        filters,
        strides,
        padding,
        data_format=data_format,
        dilations=dilations,
        bias=bias,
        activation=activation,
        algorithm=algorithm,
        pads=pads,
    )
