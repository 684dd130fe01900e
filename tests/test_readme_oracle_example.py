"""The README's "Using fastconv as a test oracle" example is a working test file: it is
taken from README.md as written, run by pytest in a child process, and must pass; the same
file with a bug planted in the convolution under test (every product 1.0001x too large)
must fail, so the example's tolerance really checks something."""

from __future__ import annotations

import re
from pathlib import Path

from run_script import run_python

README = Path(__file__).resolve().parent.parent / "README.md"
RUN = "import sys, pytest; sys.exit(pytest.main([sys.argv[1], '-q', '-p', 'no:cacheprovider']))"


def readme_example() -> str:
    text = README.read_text()
    section = text[text.index("## Using fastconv as a test oracle") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_example(source: str, tmp_path: Path):
    path = tmp_path / "test_my_conv.py"
    path.write_text(source)
    return run_python(RUN, args=[path], timeout=300, check=False)


def test_readme_example_passes(tmp_path):
    result = run_example(readme_example(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout


def test_readme_example_catches_a_wrong_convolution(tmp_path):
    source = readme_example()
    planted = source.replace("@ w[i, j]\n", "@ (w[i, j] * np.float32(1.0001))\n")
    assert planted != source
    result = run_example(planted, tmp_path)
    assert result.returncode != 0 and "2 failed" in result.stdout, result.stdout
