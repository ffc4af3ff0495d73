#!/usr/bin/env bash
# Checks libweft.so against the C ABI contract (include-c/weft.h) and the committed baseline:
#  1. exports: the dynamic symbol table defines only weft_* functions (plus the version node
#     WEFT_<abi>), and every function declared in weft.h is among them;
#  2. constants: every enumerator and #define of weft.h in abi/weft-constants.txt keeps its value;
#  3. types and functions: abidiff against abi/libweft.abi; additions pass, incompatible changes
#     fail unless WEFT_ABI_VERSION was bumped and the baseline regenerated with it.
#
# Usage: tools/check-abi.sh [--update] [path/to/libweft.so]   (default: build/packaging/libweft.so)
#   --update  regenerates abi/ from the library; refused when the library breaks the current
#             baseline while WEFT_ABI_VERSION is unchanged (bump it first, then --update).
# The library must have debug info (RelWithDebInfo, the default build type).
set -euo pipefail
export LC_ALL=C  # sort and join agree on one collation
cd "$(dirname "$0")/.."
root=$PWD

update=0
lib=""
for arg in "$@"; do
  case "$arg" in
    --update) update=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "check-abi: unknown option '$arg'" >&2; exit 2 ;;
    *) lib=$arg ;;
  esac
done
lib=${lib:-$root/build/packaging/libweft.so}
header=$root/include-c/weft.h
baseline=$root/abi/libweft.abi
constants_baseline=$root/abi/weft-constants.txt

strip_comments() { perl -0pe 's@/\*.*?\*/@@gs' "$1"; }
fail() { echo "check-abi: FAIL: $*" >&2; exit 1; }

[ -f "$lib" ] || fail "no library at $lib (build it first: tools/test-packaging.sh)"
if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
  echo "check-abi: installing abigail-tools"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq abigail-tools >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- 1. exports -----------------------------------------------------------------------
header_abi=$(sed -nE 's/^#define WEFT_ABI_VERSION ([0-9]+)$/\1/p' "$header")
[ -n "$header_abi" ] || fail "no '#define WEFT_ABI_VERSION <n>' in $header"
soname=$(readelf -d "$lib" | sed -nE 's/.*Library soname: \[(.*)\].*/\1/p')
[ "$soname" = "libweft.so.$header_abi" ] ||
  fail "$lib has soname '$soname', weft.h says WEFT_ABI_VERSION $header_abi (stale build?)"

# nm prints "name@@VERSION" for versioned symbols; the version node itself is an absolute
# symbol (type A) that every versioned library defines.
nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $3); print $2, $3 }' > "$work/dynsyms"
awk -v node="WEFT_$header_abi" '!($1 == "A" && $2 == node) && $2 !~ /^weft_/ { print $2 }' \
  "$work/dynsyms" > "$work/offenders"
if [ -s "$work/offenders" ]; then
  echo "check-abi: symbols exported by $lib that are not weft_*:" >&2
  sed 's/^/  /' "$work/offenders" >&2
  fail "$(wc -l < "$work/offenders") symbol(s) leak from libweft.so"
fi
awk '$2 ~ /^weft_/ { print $2 }' "$work/dynsyms" | sort -u > "$work/exported"

# Function names declared in weft.h: comments removed, declarations joined on one line each.
strip_comments "$header" | tr '\n' ' ' | tr ';' '\n' |
  sed -nE 's/.*WEFT_API[^(]*[^a-zA-Z0-9_](weft_[a-zA-Z0-9_]+)[[:space:]]*\(.*/\1/p' |
  sort -u > "$work/declared"
[ -s "$work/declared" ] || fail "found no WEFT_API declarations in $header"
missing=$(comm -23 "$work/declared" "$work/exported")
[ -z "$missing" ] || fail "declared in weft.h but not exported: $(echo $missing)"
undeclared=$(comm -13 "$work/declared" "$work/exported")
[ -z "$undeclared" ] || fail "exported but not declared in weft.h: $(echo $undeclared)"
echo "check-abi: exports ok: $(wc -l < "$work/exported") weft_* functions, nothing else"

# ---- 2. constants -------------------------------------------------------------------------
# Enumerators and numeric #defines, except the version numbers, which change by design.
strip_comments "$header" |
  sed -nE -e 's/^[[:space:]]*(WEFT_[A-Z0-9_]+)[[:space:]]*=[[:space:]]*([0-9]+).*/\1 \2/p' \
          -e 's/^#define (WEFT_[A-Z0-9_]+) ([0-9]+)$/\1 \2/p' |
  grep -vE '^WEFT_(VERSION_[A-Z]+|ABI_VERSION) ' | sort > "$work/constants"

check_constants() {  # prints every baseline constant that vanished or changed value
  [ -f "$constants_baseline" ] || return 0
  join -a 1 "$constants_baseline" "$work/constants" |
    awk 'NF < 3 { print "  " $1 " removed (was " $2 ")" } NF == 3 && $2 != $3 {
           print "  " $1 " changed from " $2 " to " $3 }'
}

# ---- 3. abidiff -------------------------------------------------------------------------
abidw --headers-dir "$root/include-c" --drop-private-types --drop-undefined-syms \
  --exported-interfaces-only --no-corpus-path --no-comp-dir-path --short-locs \
  --type-id-style hash --out-file "$work/current.abi" "$lib" ||
  fail "abidw could not read $lib (built without debug info?)"
grep -q "<abi-instr" "$work/current.abi" ||
  fail "abidw found no debug info in $lib: build with -DCMAKE_BUILD_TYPE=RelWithDebInfo"

baseline_abi=""
[ -f "$baseline" ] &&
  baseline_abi=$(sed -nE "1s/.* soname='libweft\.so\.([0-9]+)'.*/\1/p" "$baseline")

compare() {  # abidiff baseline vs current: sets abi_rc and incompatible, writes $work/report
  set +e
  abidiff --no-unreferenced-symbols "$baseline" "$work/current.abi" > "$work/report" 2>&1
  abi_rc=$?
  set -e
  if (( abi_rc & 3 )); then
    cat "$work/report" >&2
    fail "abidiff could not compare $baseline with $lib (status $abi_rc)"
  fi
  # abidiff flags only removed symbols as incompatible (bit 8); a changed signature or type
  # reachable from a function is a plain change (bit 4). Only additions are compatible here.
  incompatible=0
  local removed_or_changed='summary: ([1-9][0-9]* Removed|[0-9]+ Removed, [1-9][0-9]* Changed)'
  if (( abi_rc & 8 )) || grep -qE "$removed_or_changed" "$work/report"; then
    incompatible=1
  fi
}

if [ "$update" = 1 ]; then
  if [ -n "$baseline_abi" ] && [ "$baseline_abi" = "$header_abi" ]; then
    compare
    broken=$(check_constants)
    if [ "$incompatible" = 1 ] || [ -n "$broken" ]; then
      cat "$work/report" >&2
      [ -z "$broken" ] || printf 'constants:\n%s\n' "$broken" >&2
      fail "incompatible with the ABI $header_abi baseline: bump WEFT_ABI_VERSION in weft.h" \
        "before regenerating it"
    fi
  fi
  mkdir -p "$root/abi"
  cp "$work/current.abi" "$baseline"
  cp "$work/constants" "$constants_baseline"
  echo "check-abi: wrote abi/libweft.abi and abi/weft-constants.txt for ABI $header_abi;" \
    "commit them"
  exit 0
fi

[ -f "$baseline" ] || fail "no baseline $baseline: create it with tools/check-abi.sh --update"
if [ "$baseline_abi" != "$header_abi" ]; then
  fail "weft.h says WEFT_ABI_VERSION $header_abi but abi/libweft.abi was made for ABI" \
    "'$baseline_abi': regenerate the baseline with tools/check-abi.sh --update and commit it" \
    "with the version change"
fi
broken=$(check_constants)
if [ -n "$broken" ]; then
  printf '%s\n' "$broken" >&2
  fail "weft.h changed the value of stable constants (see above) without an ABI version bump"
fi
compare
if [ "$incompatible" = 1 ]; then
  cat "$work/report" >&2
  fail "incompatible ABI change against abi/libweft.abi (ABI $header_abi): restore" \
    "compatibility, or bump WEFT_ABI_VERSION and run tools/check-abi.sh --update"
fi
if (( abi_rc & 4 )); then
  sed 's/^/  /' "$work/report"
  echo "check-abi: compatible changes against the baseline (listed above); run" \
    "tools/check-abi.sh --update to record them"
fi
echo "check-abi: ok (ABI $header_abi, constants and abidiff compatible with abi/libweft.abi)"
