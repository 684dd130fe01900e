"""The libraries in the comparison: optional imports, thread counts, versions.

TensorFlow and PyTorch are optional: `load_tensorflow` / `load_torch` return None, with the
reason recorded in `MISSING`, when they cannot be imported. Every library gets the same
thread count, set once, before it first runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from typing import Any

import numpy as np

TF_FN, TF_EAGER, TORCH, REFERENCE = "tf-fn", "tf-eager", "torch", "reference"
# The peers, in table order; errors are measured against the first one that ran.
PEERS = (TF_FN, TF_EAGER, TORCH)

# Environment variables that change how the libraries thread or which kernels they pick; the
# ones set are recorded with the results (OpenMP's wait policy alone can move a figure 100x
# on a busy 2-core machine).
ENVIRONMENT = (
    "OMP_NUM_THREADS",
    "OMP_WAIT_POLICY",
    "GOMP_SPINCOUNT",
    "OMP_PROC_BIND",
    "OMP_PLACES",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)

MISSING: dict[str, str] = {}  # library -> why it is not in the comparison
_LOADED: dict[str, Any] = {}


def set_fastconv_threads(threads: int) -> None:
    import fastconv

    fastconv.set_num_threads(threads)


def _quiet_tensorflow_logs() -> None:
    """TF's own settings for fewer log lines, before it is imported: C++ INFO and WARNING
    off (TF_CPP_MIN_LOG_LEVEL=2, unless the user set it) and absl's Python logging at
    ERROR. Python's logging for "tensorflow" is set after the import."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from absl import logging as absl_logging
    except ImportError:  # absl-py comes with TensorFlow; without it there is no TF either
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


@contextlib.contextmanager
def _stderr_held(quiet: bool):
    """While TF's shared libraries load, file descriptor 2 goes to a temporary file: the
    lines they log before absl::InitializeLog (oneDNN's notice, CPU feature hints) ignore
    TF_CPP_MIN_LOG_LEVEL. What was held is written out after all if the import fails."""
    if not quiet:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr: nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                held.seek(0)
                os.write(2, held.read())


def load_tensorflow(threads: int, quiet: bool = True):
    """Import TensorFlow with `threads` intra- and inter-op threads, or None if missing.

    TF fixes its thread pools when it initializes (the first op), so the counts are set right
    after the import; if something in this process already initialized TF with other
    counts, that is recorded rather than silently ignored. `quiet` (the default; `fastconv
    bench --verbose` turns it off) keeps TF's log lines off stderr and out of the table.
    """
    if "tf" in _LOADED or TF_FN in MISSING:
        return _LOADED.get("tf")
    if quiet:
        _quiet_tensorflow_logs()
    try:
        with _stderr_held(quiet):
            import tensorflow as tf
    except ImportError as exc:
        MISSING[TF_FN] = MISSING[TF_EAGER] = f"TensorFlow is not installed ({exc})"
        return None
    if quiet:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
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
        out["tensorflow_intra_op"] = _LOADED[
            "tf"
        ].config.threading.get_intra_op_parallelism_threads()
        out["tensorflow_inter_op"] = _LOADED[
            "tf"
        ].config.threading.get_inter_op_parallelism_threads()
    if "torch" in _LOADED:
        out["torch"] = _LOADED["torch"].get_num_threads()
    return out


def notes() -> list[str]:
    return [_LOADED["tf_threads_note"]] if "tf_threads_note" in _LOADED else []
