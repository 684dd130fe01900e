"""One ISA decision per call: Python threads compute conv2d (im2col, auto -> Winograd,
direct), depthwise_conv2d and pooling while another thread switches the ISA among
isa_names() nonstop; every result is bit-identical to that call's result under one of the
ISAs, and nothing crashes. The stress itself is tests/isa_stress.py, run in a child process
so that a crash or a hang fails this test alone (test_isa_switch_asan.py runs it again on
an AddressSanitizer build, which also sees out-of-bounds accesses that happen not to crash)."""

from __future__ import annotations

from run_script import run_python

STRESS = "import sys, isa_stress; sys.exit(isa_stress.main(sys.argv[1:]))"


def test_isa_switching_while_computing():
    out = run_python(STRESS, args=["--seconds", 4], timeout=60).stdout
    assert "0 wrong results" in out, out
