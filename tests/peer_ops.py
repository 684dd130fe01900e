"""The peers that the convention tests compare with, on NumPy arrays: ONNX's own reference
evaluator (`onnx.reference.ReferenceEvaluator`) running a one-node model, and PyTorch's
functional ops (optional: PyTorch is not in the `test` extra, see pyproject.toml).

Known defects of ONNX's reference evaluator (onnx 1.23) that the sweeps step around, each
checked against PyTorch and ONNX's operator spec instead (docs/peers.md lists them):
- MaxPool with every stride and dilation 1 takes a second code path that reads `pads` as
  [top, bottom, left, right] instead of ONNX's [top, left, bottom, right], with
  ceil_mode=1 returns a larger output padded with zeros, and counts its Indices in the
  padded input (off by the padding);
- AveragePool with ceil_mode=1, where rounding up adds an output, shifts some windows;
- auto_pad SAME_UPPER / SAME_LOWER / VALID size the padding and the output without the
  dilation (the window's k instead of (k - 1) * d + 1): wrong where dilations > 1;
- MaxPool with auto_pad SAME_LOWER (strides or dilations above 1) gives floor(in / stride)
  outputs, not the spec's ceil(in / stride), and puts the odd padding cell at the end.
  (AveragePool's SAME_LOWER follows the spec and checks the shared geometry.)
- AveragePool with auto_pad SAME_* does not clamp the padding at 0: where the windows
  end before the input does ((out - 1) * stride + k < in) it fails on a negative pad.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

OPSET = 22  # the newest opset onnx 1.23's evaluator runs: ceil_mode's last-window rule is in it

_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


def onnx_run(op: str, inputs: dict, *, indices: bool = False, **attributes):
    """The output of a one-node ONNX model `op(*inputs)` with these attributes; with
    indices, (output, int64 second output) (MaxPool's Indices)."""
    dtype = _TYPES[next(iter(inputs.values())).dtype]
    outputs = [helper.make_tensor_value_info("Y", dtype, None)]
    if indices:
        outputs.append(helper.make_tensor_value_info("I", TensorProto.INT64, None))
    node = helper.make_node(op, list(inputs), [o.name for o in outputs], **attributes)
    graph = helper.make_graph(
        [node],
        op,
        [helper.make_tensor_value_info(n, dtype, None) for n in inputs],
        outputs,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    results = ReferenceEvaluator(model).run(None, inputs)
    return tuple(results) if indices else results[0]


def onnx_pool_defect(op: str, attributes: dict, spatial_shape, indices: bool = False) -> bool:
    """Whether a MaxPool / AveragePool call on an input of this (H, W) (and MaxPool's
    Indices output) meets one of the evaluator's defects that need no run to spot (module
    docstring)."""
    dilated = max(attributes.get("dilations", [1])) > 1
    auto_pad = attributes.get("auto_pad", "NOTSET")
    if (auto_pad != "NOTSET" and dilated) or (op == "MaxPool" and auto_pad == "SAME_LOWER"):
        return True
    if auto_pad.startswith("SAME") and any(
        (-(-n // s) - 1) * s + k < n
        for n, s, k in zip(spatial_shape, attributes["strides"], attributes["kernel_shape"])
    ):
        return True
    return (
        op == "MaxPool"
        and max(attributes["strides"]) == 1
        and not dilated
        and (
            indices
            or bool(attributes.get("ceil_mode"))
            or len(set(attributes.get("pads", [0]))) > 1
        )
    )


@pytest.fixture(scope="module")
def torch_f():
    """torch.nn.functional, or a skip where PyTorch is not installed."""
    torch = pytest.importorskip("torch", reason="PyTorch is an optional peer (pip install torch)")
    return torch.nn.functional


def torch_run(fn, x: np.ndarray, *args, **kwargs):
    """fn (a torch.nn.functional op) on NumPy arrays; a tuple result gives a tuple."""
    import torch

    tensors = [
        torch.from_numpy(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in args
    ]
    result = fn(torch.from_numpy(np.ascontiguousarray(x)), *tensors, **kwargs)
    if isinstance(result, tuple):
        return tuple(r.numpy() for r in result)
    return result.numpy()
