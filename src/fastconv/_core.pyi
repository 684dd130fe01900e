# Type stubs of the compiled binding (_core.pyx): what the Python layer may call. Keep in
# step with _core.pyx; mypy checks the callers against these signatures.
from typing import TypedDict

import numpy as np

from ._geometry import Window as _Window

class _ParallelStats(TypedDict):
    cap: int
    contended_calls: int
    parallel_calls: int

class _GemmBlocking(TypedDict):
    MR: int
    NR: int
    MC: int
    panel_bytes: int

class PackedFilters:
    key: tuple[int, int, int, int, int, int]
    algorithm: int
    nbytes: int
    @property
    def isa(self) -> str: ...

DTYPE_CODES: dict[str, int]
STATUS_CODES: dict[str, int]
ACTIVATION_CODES: dict[str | None, int]
ALGORITHM_CODES: dict[str, int]
POOL_CODES: dict[str, int]
ISA_CODES: dict[str, int]
ISA_ALIASES: dict[str, str]
ENUMS: dict[str, dict[str | None, int]]

class ConvDesc:
    def __init__(
        self,
        win: _Window,
        groups: int,
        activation: int,
        algorithm: int,
        input_gradient: bool = False,
    ) -> None: ...
    def choice(
        self,
        x_shape: tuple[int, int, int, int],
        y_shape: tuple[int, int, int, int],
        float64: bool,
        prepacked: bool = False,
    ) -> int: ...
    def pack(
        self, filters: np.ndarray, in_channels: int, algorithm: int, isa: str
    ) -> PackedFilters | None: ...
    def run(
        self,
        x: np.ndarray,
        filters: np.ndarray,
        bias: np.ndarray | None,
        y: np.ndarray,
        packed: PackedFilters | None = None,
    ) -> None: ...

def winograd_applies(win: _Window, groups: int) -> bool: ...

class BackpropFilterKernel:
    def __init__(self, win: _Window, groups: int) -> None: ...
    def run(self, x: np.ndarray, dy: np.ndarray, dw: np.ndarray, db: np.ndarray | None) -> None: ...

class PoolKernel:
    def __init__(
        self,
        win: _Window,
        kind: int,
        div_h: np.ndarray | None = None,
        div_w: np.ndarray | None = None,
    ) -> None: ...
    def run(self, x: np.ndarray, y: np.ndarray) -> None: ...

class PoolGradKernel(PoolKernel):
    def run(self, x: np.ndarray, g: np.ndarray, dx: np.ndarray) -> None: ...  # type: ignore[override]

class ArgmaxKernel:
    def __init__(self, win: _Window, index_strides: tuple[int, ...]) -> None: ...
    def run(self, x: np.ndarray, y: np.ndarray, argmax: np.ndarray) -> None: ...

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def set_thread_num_threads(n: int) -> None: ...
def thread_num_threads() -> int: ...
def cpus_available() -> int: ...
def have_openmp() -> bool: ...
def parallel_stats() -> _ParallelStats: ...
def parallel_observe(threads: int, wall: float, cpu: float) -> None: ...
def plan_key(
    op: object, arrays: tuple[np.ndarray | None, ...], args: tuple[object, ...]
) -> tuple[object, ...]: ...
def empty_aligned(shape: tuple[int, ...], dtype: np.dtype, line: int) -> np.ndarray: ...
def isa_names() -> list[str]: ...
def get_isa() -> str: ...
def set_isa(name: str) -> None: ...
def gemm_blocking(dtype: str) -> _GemmBlocking: ...
