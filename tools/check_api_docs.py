"""Checks that the built docs site documents every public name: each callable in
fastconv.__all__, fastconv.reference and fastconv.testing has an entry (with its docstring) on the API page.

    mkdocs build --strict && python tools/check_api_docs.py [SITE_DIR]   (default build/site)
"""

from __future__ import annotations

import html
import inspect
import re
import sys
from pathlib import Path

import fastconv
from fastconv import reference, testing


def missing(page: str) -> list[str]:
    """The public callables the page lacks, or shows without the first line of their
    docstring."""
    text = html.unescape(re.sub(r"<[^>]+>", "", page))  # the words, without markup
    gaps = []
    for module in (fastconv, reference, testing):
        names = getattr(module, "__all__", None) or [
            n
            for n, v in vars(module).items()
            if inspect.isfunction(v) and v.__module__ == module.__name__ and not n.startswith("_")
        ]
        for name in names:
            obj = getattr(module, name)
            if not callable(obj):
                continue
            first = re.sub(r"`+", "", (inspect.getdoc(obj) or "").splitlines()[0]).strip()
            if f'id="{module.__name__}.{name}"' not in page or first[:30] not in text:
                gaps.append(f"{module.__name__}.{name}")
    return gaps


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "build/site")
    gaps = missing((site / "api" / "index.html").read_text())
    if gaps:
        print(f"the API page lacks: {', '.join(gaps)}")
        return 1
    print("the API page documents every public function")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
