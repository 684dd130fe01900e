"""The examples of the user guide run as written: each page's Python blocks, in order, as one
script (later blocks use the names earlier ones define), with their own asserts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fastconv

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ["beyond-tf.md"]


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)
    assert len(blocks) >= 5, f"{page}: expected its examples, found {len(blocks)} blocks"
    threads = fastconv.get_num_threads()
    try:
        exec(compile("\n".join(blocks), str(DOCS / page), "exec"), {})
    finally:
        fastconv.set_num_threads(threads)  # an example changes it
