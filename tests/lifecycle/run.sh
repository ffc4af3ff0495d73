#!/usr/bin/env bash
# Runs the lifecycle suite (docs/LIFECYCLE.md). Builds nothing.
#
#   tests/lifecycle/run.sh BINARY                  one run at CI size (ctest runs the same tests)
#   tests/lifecycle/run.sh BINARY --long [MINUTES] soak: the five groups in turn, each round
#                                                  WEFT_LIFECYCLE_SCALE times larger (default 10)
#                                                  with a new WEFT_LIFECYCLE_SEED, until MINUTES
#                                                  (default 30) have passed; stops at the first
#                                                  failure and names its seed
#
# BINARY is weft_test_lifecycle from a build directory (build/tests/lifecycle/weft_test_lifecycle).
# Extra arguments after these go to the test program (e.g. --gtest_filter=Seed4*).
set -euo pipefail

usage() {
  echo "usage: $0 BINARY [--long [MINUTES]] [test program arguments...]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
binary="$1"
shift
[ -x "$binary" ] || { echo "$0: $binary is not an executable file" >&2; exit 2; }

long=0
minutes=30
if [ "${1:-}" = "--long" ]; then
  long=1
  shift
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    minutes="$1"
    shift
  fi
fi

if [ "$long" -eq 0 ]; then
  exec "$binary" "$@"
fi

export WEFT_LIFECYCLE_SCALE="${WEFT_LIFECYCLE_SCALE:-10}"
groups=(Seed1Timers Seed2HandshakeClose Seed3StopUnderLoad Seed4Cancellation Seed5ManyWriters)
end=$(( $(date +%s) + minutes * 60 ))
round=0
echo "lifecycle soak: ${minutes} min at WEFT_LIFECYCLE_SCALE=${WEFT_LIFECYCLE_SCALE}"
while [ "$(date +%s)" -lt "$end" ]; do
  round=$((round + 1))
  for group in "${groups[@]}"; do
    [ "$(date +%s)" -lt "$end" ] || break
    seed=$(( (RANDOM << 15) | RANDOM ))
    echo "=== round ${round}: ${group} (WEFT_LIFECYCLE_SEED=${seed})"
    if ! WEFT_LIFECYCLE_SEED="$seed" "$binary" --gtest_filter="${group}.*" "$@"; then
      echo "lifecycle soak: ${group} failed in round ${round};" \
        "repeat with WEFT_LIFECYCLE_SEED=${seed} WEFT_LIFECYCLE_SCALE=${WEFT_LIFECYCLE_SCALE}" >&2
      exit 1
    fi
  done
done
echo "lifecycle soak: ${round} rounds passed in ${minutes} min"
