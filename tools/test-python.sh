#!/usr/bin/env bash
# Tests the Python package as a user gets it: builds the wheel once (pip wheel ./python), installs
# it with pytest into a fresh virtualenv, checks that `import weft` works from outside the
# repository, then runs python/tests with that virtualenv's interpreter (so the tests import the
# installed wheel, not the source tree). Interop peers come from tests/interop/setup.sh.
#
# Usage: tools/test-python.sh [pytest arguments...]
# Environment: PYTHON (default python3), WEFT_PYTHON_OUT (default build/py/ci),
# WEFT_INTEROP_REQUIRE_ALL (default 1: a missing go or js peer fails its tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
out=${WEFT_PYTHON_OUT:-$root/build/py/ci}
export WEFT_INTEROP_REQUIRE_ALL=${WEFT_INTEROP_REQUIRE_ALL:-1}
# ccache hits across checkouts in other directories (CI clones the repository afresh).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}

seconds_since() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'; }
step_started=0
step() {
  step_started=$EPOCHREALTIME
  echo "=== weft python: $*"
}
step_done() { echo "    ($(seconds_since "$step_started") s)"; }
total_started=$EPOCHREALTIME

step "interop peers (tests/interop/setup.sh)"
tests/interop/setup.sh
step_done

step "build the wheel (pip wheel ./python)"
rm -rf "$out/wheelhouse"
mkdir -p "$out/wheelhouse"
"$python" -m pip wheel "$root/python" -w "$out/wheelhouse" --no-deps
wheel=$(ls "$out/wheelhouse"/weft-*.whl)
echo "    $wheel"
step_done

step "install it into a fresh virtualenv"
rm -rf "$out/venv"
"$python" -m venv "$out/venv"
venv_python="$out/venv/bin/python"
"$venv_python" -m pip install --quiet "$wheel" pytest
step_done

step "import weft outside the repository"
outside=$(mktemp -d)
trap 'rm -rf "$outside"' EXIT
(cd "$outside" && "$venv_python" -c '
import asyncio, pathlib, sys, weft
location = pathlib.Path(weft.__file__).resolve()
assert "site-packages" in location.parts, location
async def main():
    async with weft.Node(listen="/ip4/127.0.0.1/tcp/0") as a, weft.Node() as b:
        rtt = await b.ping(a.listen_addrs[0])
    print(f"    weft {weft.__version__} from {location.parent}; ping {rtt * 1e3:.3f} ms")
asyncio.run(main())
')
step_done

step "pytest python/tests"
WEFT_PYTHON_EXPECT_INSTALLED=1 "$venv_python" -m pytest "$root/python/tests" -v \
  -p no:cacheprovider --durations=8 "$@"
step_done

echo "=== weft python: all passed in $(seconds_since "$total_started") s"
