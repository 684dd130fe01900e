"""fastconv bench's allocator setting (fastconv.bench.allocator): glibc keeps freed memory,
so that a library's call does not pay page faults for another library's frees. Run in child
processes: the setting is process-wide and would change this process's memory use."""

import sys

import pytest

from fastconv.bench import allocator
from run_script import run_python

# Page faults of writing a 48 MiB block five times after a first one: above the largest
# mmap threshold glibc adapts to by default (32 MiB), so that by default each block is mapped
# afresh and faulted in (4 KiB pages, or 2 MiB ones where NumPy asks for huge pages), as big
# blocks freed by another library are; argv[1] == "keep": with the bench's setting.
FAULTS = """
import resource, sys
import numpy as np
from fastconv.bench.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory() is not None
size = 48 << 20
np.ones(size // 8)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    np.ones(size // 8)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_freed_blocks_are_reused_without_page_faults():
    glibc = "from fastconv.bench.allocator import keep_freed_memory as k; print(k() is not None)"
    if run_python(glibc, timeout=60).stdout.strip() != "True":
        pytest.skip("the C library is not glibc")
    fresh = int(run_python(FAULTS, timeout=60, args=["default"]).stdout)
    kept = int(run_python(FAULTS, timeout=60, args=["keep"]).stdout)
    # at least 24 huge pages a block by default (thousands with 4 KiB pages); none kept
    assert fresh >= 5 * 24, fresh
    assert kept < 24, kept


def test_not_linux_leaves_the_allocator_alone(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is None
