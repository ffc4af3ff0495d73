#!/usr/bin/env bash
# Installs weft into a fresh temporary prefix and uses it the way a C user would:
#  (a) compiles examples/c with `cc $(pkg-config --cflags --libs weft)`;
#  (b) builds examples/c as a CMake project with find_package(weft) and weft::weft, and again
#      with weft::weft_static;
#  (c) links the examples with libweft.a from `pkg-config --static`;
# then runs echo_server and points every ping and echo_client built above at it.
#
# Usage: tools/check-install.sh [BUILD_DIR]   (default build/packaging, configured if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-$root/build/packaging}

fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
step() { echo "check-install: $*"; }

command -v pkg-config >/dev/null || {
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq pkg-config >/dev/null
}

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

[ -f "$build/CMakeCache.txt" ] ||
  cmake -S "$root" -B "$build" -G Ninja -DWEFT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target weft_shared weft_static

prefix=$work/prefix
step "installing into $prefix"
cmake --install "$build" --prefix "$prefix" --component weft >/dev/null
version=$(sed -nE 's/^CMAKE_PROJECT_VERSION:STATIC=(.*)/\1/p' "$build/CMakeCache.txt")
abi=$(sed -nE 's/^#define WEFT_ABI_VERSION ([0-9]+)$/\1/p' "$root/include-c/weft.h")
for file in include/weft.h lib/libweft.so "lib/libweft.so.$abi" "lib/libweft.so.$version" \
    lib/libweft.a lib/pkgconfig/weft.pc lib/cmake/weft/weftConfig.cmake \
    lib/cmake/weft/weftConfigVersion.cmake; do
  [ -e "$prefix/$file" ] || fail "not installed: $file"
done

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion weft)" = "$version" ] ||
  fail "pkg-config reports weft $(pkg-config --modversion weft), the build $version"
programs=(ping echo_server echo_client version)
cflags=(-std=c11 -Wall -Wextra -Werror -O2)

step "(a) cc with pkg-config, shared"
mkdir -p "$work/pc"
for p in "${programs[@]}"; do
  # shellcheck disable=SC2046  # pkg-config output is meant to be split
  cc "${cflags[@]}" "$root/examples/c/$p.c" -o "$work/pc/$p" $(pkg-config --cflags --libs weft) ||
    fail "examples/c/$p.c does not build against the installed library"
done
readelf -d "$work/pc/ping" | grep -q "NEEDED.*\[libweft\.so\.$abi\]" ||
  fail "pkg-config linked ping without libweft.so.$abi"

step "(b) CMake find_package(weft): weft::weft and weft::weft_static"
for kind in shared static; do
  option=OFF
  [ "$kind" = static ] && option=ON
  cmake -S "$root/examples/c" -B "$work/cmake-$kind" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DWEFT_EXAMPLES_STATIC=$option >/dev/null || fail "find_package(weft) failed ($kind)"
  cmake --build "$work/cmake-$kind" >/dev/null || fail "the CMake example build failed ($kind)"
done

step "(c) cc with pkg-config --static and libweft.a"
mkdir -p "$work/static"
static_libs=$(pkg-config --static --libs weft | sed 's/-lweft\b/-l:libweft.a/')
for p in ping echo_client version; do
  # shellcheck disable=SC2046,SC2086
  cc "${cflags[@]}" "$root/examples/c/$p.c" -o "$work/static/$p" $(pkg-config --cflags weft) \
    $static_libs || fail "examples/c/$p.c does not link with libweft.a"
done
for bin in "$work/static/ping" "$work/cmake-static/ping"; do
  if readelf -d "$bin" | grep -q "NEEDED.*libweft"; then
    fail "$bin should not need libweft.so"
  fi
done

step "running the examples"
# The pkg-config builds find libweft.so through LD_LIBRARY_PATH; the CMake ones carry an rpath.
run_shared() { LD_LIBRARY_PATH=$prefix/lib timeout 60 "$@"; }
for bin in "$work/pc/version" "$work/cmake-shared/version" "$work/static/version" \
    "$work/cmake-static/version"; do
  run_shared "$bin" > "$work/out" 2>&1 || { cat "$work/out"; fail "$bin failed"; }
done
cat "$work/out"

LD_LIBRARY_PATH=$prefix/lib "$work/pc/echo_server" > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
  [ -s "$work/server.out" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err"; fail "echo_server exited"; }
  sleep 0.1
done
addr=$(head -n 1 "$work/server.out")
[ -n "$addr" ] || fail "echo_server printed no address within 10 s"
step "echo_server listens on $addr"

for bin in "$work/pc/ping" "$work/cmake-shared/ping" "$work/static/ping" \
    "$work/cmake-static/ping"; do
  run_shared "$bin" "$addr" -n 3 > "$work/out" 2>&1 || { cat "$work/out"; fail "$bin failed"; }
  [ "$(grep -c '^ping [0-9]*: ' "$work/out")" = 3 ] || { cat "$work/out"; fail "$bin: 3 pings?"; }
done
cat "$work/out"
message="hello over /example/echo/1.0.0 $$"
for bin in "$work/pc/echo_client" "$work/cmake-shared/echo_client" "$work/static/echo_client" \
    "$work/cmake-static/echo_client"; do
  run_shared "$bin" "$addr" "$message" > "$work/out" 2>&1 ||
    { cat "$work/out"; fail "$bin failed"; }
  grep -qF "$message" "$work/out" || { cat "$work/out"; fail "$bin: no echo"; }
done
cat "$work/out"
run_shared "$work/pc/echo_client" "$addr" "" > "$work/out" 2>&1 ||
  { cat "$work/out"; fail "echo_client with an empty message failed"; }

kill -TERM "$server_pid"
for _ in $(seq 100); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && fail "echo_server still running 10 s after SIGTERM"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" = 0 ] || { cat "$work/server.err"; fail "echo_server exited with status $status"; }
step "ok: installed layout, pkg-config (shared and static), find_package(weft), examples run"
