"""Outputs in memory not mapped yet are mapped before the call writes them, in pieces
claimed by the threads (runtime/prefault.c, parallel.c): a fresh anonymous mapping, cut
by the output view inside its first and last pages, gives the same bits as an ordinary
array and the bytes around the output are left alone; so does a file mapping (whose pages
the page cache holds: left to fault as they are written)."""

import mmap

import numpy as np
import pytest

import fastconv

SHAPE = (16, 14, 14, 64)  # 784 KiB of float32: 2-3 pieces of 512 KiB to map
GUARD = 3  # float32 values before and after the output, so that it cuts pages


def _conv(x, w, algorithm, out=None):
    return fastconv.conv2d(x, w, 1, "SAME", algorithm=algorithm, out=out)


def _fresh_views(tmp_path, size):
    anon = mmap.mmap(-1, size)
    path = tmp_path / "out.bin"
    path.write_bytes(b"\x00" * size)
    mapped = np.memmap(path, np.uint8, "r+", shape=(size,))
    return {"anonymous": np.frombuffer(anon, np.uint8), "file": mapped}, anon


@pytest.mark.parametrize("algorithm", ["direct", "im2col"])
@pytest.mark.parametrize("threads", [1, 2])
def test_fresh_output_memory(algorithm, threads, tmp_path, restore_threads, rng):
    x = rng.standard_normal((16, 14, 14, 32)).astype(np.float32)
    w = rng.standard_normal((5, 5, 32, 64)).astype(np.float32)
    fastconv.set_num_threads(threads)
    expected = _conv(x, w, algorithm)
    n = int(np.prod(SHAPE))
    size = 4 * (n + 2 * GUARD)
    views, anon = _fresh_views(tmp_path, size)
    for kind, raw in views.items():
        whole = raw.view(np.float32)
        whole[:GUARD] = whole[-GUARD:] = 7.0  # touches only the first and last page
        out = whole[GUARD:-GUARD].reshape(SHAPE)
        got = _conv(x, w, algorithm, out=out)
        assert got is out, kind
        assert np.array_equal(out, expected), kind
        assert np.all(whole[:GUARD] == 7.0) and np.all(whole[-GUARD:] == 7.0), kind
        del whole, out, got, raw
    views.clear()
    anon.close()
