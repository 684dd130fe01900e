"""FASTCONV_ISA: the kernel level asked for in the environment, checked once, at import.

The C side (csrc/runtime/cpu.c) reads the variable once and honours it only when it names,
in any case, an ISA this CPU supports; anything else leaves the best level in place. That
used to happen silently (`FASTCONV_ISA=AVX2` or a typo ran AVX-512); here the same rule is
applied to say so with a warning, and `fastconv info` reports what was asked and what runs.
"""

from __future__ import annotations

import os
import warnings

from . import _core

KNOWN = tuple(_core.ISA_CODES)  # lowest first, as fc_isa orders them

# The value the C side read: importing this module makes it decide now (get_isa).
REQUESTED = os.environ.get("FASTCONV_ISA")
_core.get_isa()


def requested() -> dict:
    """What FASTCONV_ISA asked for and whether it was honoured: {"value": the raw value or
    None, "honoured": bool, "note": why not (None when honoured or unset)}."""
    if REQUESTED is None or REQUESTED == "":
        return {"value": REQUESTED, "honoured": False, "note": None}
    wanted = _core.ISA_ALIASES.get(REQUESTED.lower(), REQUESTED.lower())
    available = _core.isa_names()
    if wanted not in KNOWN:
        note = (
            f"FASTCONV_ISA={REQUESTED!r} is not an ISA (one of {', '.join(KNOWN)}, any "
            f"case, or scalar for baseline): ignored"
        )
    elif wanted not in available:
        note = (
            f"FASTCONV_ISA={REQUESTED!r} is above what this CPU supports "
            f"({', '.join(available)}): ignored"
        )
    else:
        return {"value": REQUESTED, "honoured": True, "note": None}
    return {"value": REQUESTED, "honoured": False, "note": note}


def _warn_if_ignored() -> None:
    note = requested()["note"]
    if note:
        warnings.warn(
            f"{note}; fastconv runs its {_core.get_isa()} kernels", RuntimeWarning, stacklevel=4
        )  # the importer's line


_warn_if_ignored()
