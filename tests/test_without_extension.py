"""fastconv.reference and fastconv.testing work without the compiled extension: in a child
process where importing fastconv._core fails (as in a source checkout that was never
built), `import fastconv` succeeds, the oracle and the testing helpers work, and the fast
functions raise an ImportError that says what is missing."""

from __future__ import annotations

from run_script import run_python

HIDE_CORE = """
    import importlib.abc, sys

    class NoCore(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "fastconv._core":
                raise ImportError("fastconv._core is hidden by the test")
            return None

    sys.meta_path.insert(0, NoCore())
"""


def test_reference_and_testing_without_core():
    script = (
        HIDE_CORE
        + """
    import numpy as np
    import fastconv
    from fastconv import reference, testing
    import fastconv.reference, fastconv.testing

    assert "fastconv._core" not in sys.modules
    assert fastconv.reference is reference and fastconv.testing is testing
    x = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3) / 10
    w = np.ones((3, 3, 3, 4), np.float32)
    y = fastconv.reference.conv2d(x, w, 1, "SAME")
    assert y.shape == testing.output_shape("conv2d", x.shape, w.shape, 1, "SAME") == (2, 5, 5, 4)
    testing.assert_allclose(y[0, 2, 2], np.full(4, x[0, 1:4, 1:4].sum()),
                            reduction=testing.reduction_length("conv2d", w))
    assert reference.max_pool2d(x, 2, 2).shape == (2, 2, 2, 3)
    assert reference.depthwise_conv2d(x, w[:, :, :, :1], 1, "VALID").shape == (2, 3, 3, 3)
    try:
        fastconv.conv2d(x, w)
    except ImportError as error:
        message = str(error)
        assert "fastconv._core" in message and "fastconv.reference" in message, message
    else:
        raise AssertionError("conv2d ran without the extension")
    try:
        from fastconv import max_pool2d  # noqa: F401
    except ImportError:
        pass
    else:
        raise AssertionError("max_pool2d imported without the extension")
    assert "fastconv._core" not in sys.modules
    print("ok")
    """
    )
    assert run_python(script, timeout=120).stdout.strip() == "ok"


def test_strategies_without_core():
    script = (
        HIDE_CORE
        + """
    from hypothesis import given, settings
    import fastconv
    from fastconv import reference, testing

    @settings(max_examples=10, deadline=None)
    @given(testing.conv2d_args())
    def check(call):
        assert call.run(reference).shape == call.output_shape

    check()
    assert "fastconv._core" not in sys.modules
    print("ok")
    """
    )
    assert run_python(script, timeout=120).stdout.strip() == "ok"


def test_the_extension_still_loads_at_import():
    """With the extension there, `import fastconv` loads it at once, as before (libgomp reads
    its wait policy as it loads), and the fast path is the package's."""
    script = """
    import sys
    import fastconv
    assert "fastconv._core" in sys.modules
    assert fastconv.conv2d.__module__ == "fastconv.conv"
    assert fastconv._openmp.WAIT_POLICY
    print("ok")
    """
    assert run_python(script, timeout=120).stdout.strip() == "ok"
