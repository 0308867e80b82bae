#!/bin/sh
# Install the binding the documented way, offline, into a fresh venv that
# sees Debian's packages, and run the test suite against the installed copy.
#   pip_install.sh PYTHON WORKDIR
set -eu
python=$1
work=$2
src=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$work"
mkdir -p "$work"
# pip builds in the source tree; build from a copy so that parallel runs
# and the checkout stay clean.
cp -R "$src" "$work/src"
rm -rf "$work/src/build" "$work/src/src/"*.egg-info

"$python" -m venv --system-site-packages --without-pip "$work/venv"
cd "$work"
"$work/venv/bin/python" -m pip install --no-build-isolation --no-index \
    --disable-pip-version-check ./src

# The installed package must be the one imported, with its type marker.
RELAYPOLICY_TEST_INSTALLED=1 "$work/venv/bin/python" - <<'PY'
import pathlib, sys
import relaypolicy
path = pathlib.Path(relaypolicy.__file__).resolve()
assert "site-packages" in str(path), path
assert (path.parent / "py.typed").is_file(), "py.typed not installed"
print("installed:", path, "library", relaypolicy.version())
PY

cd "$work/src/tests"
rm -rf "$work/src/src"
RELAYPOLICY_TEST_INSTALLED=1 "$work/venv/bin/python" -m unittest discover \
    -s . -v
