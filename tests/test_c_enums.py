"""Every C enum of fastconv.h reaches Python through the binding, under its own name.

The codes (algorithm, activation, pooling kind, ISA, dtype, status) used to be copied by
hand into the Python modules; now _core exports them with the values the compiler read from
the header, and the Python layer uses those. This test reads the header itself, so that an
enumerator added in C without its Python name, or a name given the wrong value, fails here.
"""

from __future__ import annotations

import pathlib
import re

from fastconv import _core, _isa, _plans
from fastconv.gpu import kernels as gpu_kernels

HEADER = pathlib.Path(__file__).resolve().parents[1] / "csrc" / "include" / "fastconv.h"


# The part of each enumerator's name that its Python name leaves out.
PREFIXES = {
    "fc_dtype": "FC_",
    "fc_status": "FC_",
    "fc_activation": "FC_ACT_",
    "fc_algorithm": "FC_ALGO_",
    "fc_pool_kind": "FC_POOL_",
    "fc_isa": "FC_ISA_",
}


def header_enums() -> dict[str, dict[str, int]]:
    """{typedef name: {enumerator: value}} of the header's `typedef enum {...} name;`s, with
    C's rule for enumerators without a value (the previous one's plus 1, the first 0)."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    enums = {}
    for body, name in re.findall(r"typedef\s+enum\s*\{(.*?)\}\s*(\w+)\s*;", text, flags=re.S):
        values, nxt = {}, 0
        for item in filter(None, (part.strip() for part in body.split(","))):
            enumerator, _, value = (s.strip() for s in item.partition("="))
            nxt = int(value, 0) if value else nxt
            values[enumerator] = nxt
            nxt += 1
        enums[name] = values
    return enums


def python_name(enumerator: str, prefix: str) -> str | None:
    """FC_ACT_RELU6 -> "relu6", FC_ERR_ARG -> "err_arg"; FC_ACT_NONE -> None (no activation)."""
    name = enumerator[len(prefix) :].lower()
    return None if enumerator == "FC_ACT_NONE" else name


def test_the_header_is_parsed():
    enums = header_enums()
    assert enums["fc_algorithm"]["FC_ALGO_WINOGRAD"] == 3
    assert enums["fc_status"]["FC_ERR_ARG"] == 2
    assert len(enums) >= 6


def test_every_c_enum_reaches_python():
    enums = header_enums()
    assert set(enums) == set(_core.ENUMS)
    for type_name, values in enums.items():
        prefix = PREFIXES[type_name]
        exported = _core.ENUMS[type_name]
        expected = {python_name(e, prefix): v for e, v in values.items()}
        assert exported == expected, type_name


def test_python_uses_the_exported_codes():
    assert _plans.ACTIVATION_CODES is _core.ACTIVATION_CODES
    assert _plans.ALGORITHM_CODES is _core.ALGORITHM_CODES
    assert _plans.POOL_CODES is _core.POOL_CODES
    assert _isa.KNOWN == tuple(_core.ISA_CODES)
    # The CUDA kernels take the C codes for `act` (kernels.py loads without the extension,
    # for the compile check, so it keeps its copy; this is what keeps it equal).
    assert gpu_kernels.ACTIVATION_CODES == _core.ACTIVATION_CODES
    # ISA codes are ordered lowest first, as fc_isa orders them
    assert list(_core.ISA_CODES.values()) == sorted(_core.ISA_CODES.values())
