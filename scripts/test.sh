#!/usr/bin/env bash
# Builds and runs every test: warnings-as-errors build + unit and end-to-end tests,
# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the
# libFuzzer targets for a bounded time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

bash scripts/deps.sh test

echo "== build (-Werror) and test"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DGV_WERROR=ON >/dev/null
cmake --build build-test -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGV_WERROR=ON -DGV_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== libFuzzer targets (bounded time)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DGV_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz --output-on-failure -R '^fuzz_'

echo "All tests passed."
