"""The libraries in the comparison: optional imports, thread counts, versions.

TensorFlow and PyTorch are optional: `load_tensorflow` / `load_torch` return None, with the
reason recorded in `MISSING`, when they cannot be imported. Every library gets the same
thread count, set once, before it first runs.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

TF_FN, TF_EAGER, TORCH, REFERENCE = "tf-fn", "tf-eager", "torch", "reference"
# The peers, in table order; errors are measured against the first one that ran.
PEERS = (TF_FN, TF_EAGER, TORCH)

# Environment variables that change how the libraries thread or which kernels they pick; the
# ones set are recorded with the results (OpenMP's wait policy alone can move a figure 100x
# on a busy 2-core machine).
ENVIRONMENT = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND",
               "OMP_PLACES", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

MISSING: dict[str, str] = {}  # library -> why it is not in the comparison
_LOADED: dict[str, Any] = {}


def set_fastconv_threads(threads: int) -> None:
    import fastconv

    fastconv.set_num_threads(threads)


def load_tensorflow(threads: int):
    """Import TensorFlow with `threads` intra- and inter-op threads, or None if missing.

    TF fixes its thread pools when it initializes (the first op), so the counts are set right
    after the import; if something in this process already initialized TF with other
    counts, that is recorded rather than silently ignored.
    """
    if "tf" in _LOADED or TF_FN in MISSING:
        return _LOADED.get("tf")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep C++ INFO logs out of the table
    try:
        import tensorflow as tf
    except ImportError as exc:
        MISSING[TF_FN] = MISSING[TF_EAGER] = f"TensorFlow is not installed ({exc})"
        return None
    threading = tf.config.threading
    try:
        if threading.get_intra_op_parallelism_threads() != threads:
            threading.set_intra_op_parallelism_threads(threads)
        if threading.get_inter_op_parallelism_threads() != threads:
            threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as exc:  # TF was initialized before us
        _LOADED["tf_threads_note"] = f"TF thread counts could not be set: {exc}"
    _LOADED["tf"] = tf
    return tf


def load_torch(threads: int):
    """Import PyTorch with `threads` intra-op threads, or None if it is not installed."""
    if "torch" in _LOADED or TORCH in MISSING:
        return _LOADED.get("torch")
    try:
        import torch
    except ImportError as exc:
        MISSING[TORCH] = f"PyTorch is not installed ({exc})"
        return None
    torch.set_num_threads(threads)
    _LOADED["torch"] = torch
    return torch


def versions() -> dict[str, str]:
    import fastconv

    out = {"fastconv": fastconv.__version__, "numpy": np.__version__}
    if "tf" in _LOADED:
        out["tensorflow"] = _LOADED["tf"].__version__
        out["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    if "torch" in _LOADED:
        out["torch"] = _LOADED["torch"].__version__
    return out


def environment() -> dict[str, str]:
    return {name: os.environ[name] for name in ENVIRONMENT if name in os.environ}


def threads_in_use() -> dict[str, int]:
    import fastconv

    out = {"fastconv": fastconv.get_num_threads()}
    if "tf" in _LOADED:
        out["tensorflow_intra_op"] = _LOADED["tf"].config.threading.get_intra_op_parallelism_threads()
        out["tensorflow_inter_op"] = _LOADED["tf"].config.threading.get_inter_op_parallelism_threads()
    if "torch" in _LOADED:
        out["torch"] = _LOADED["torch"].get_num_threads()
    return out


def notes() -> list[str]:
    return [_LOADED["tf_threads_note"]] if "tf_threads_note" in _LOADED else []
