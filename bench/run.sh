#!/usr/bin/env bash
# Benchmarks with same-run baselines.  usage: bench/run.sh   (BENCH_SECONDS=10, BENCH_IMPORT_ROWS=20000 default)
# Each script documents itself in its header comment and prints its own heading; the
# HTTP ones (bench.py, masked_read_bench.py, service_bench.py) drive wrk against
# govvaultd and the bare libmicrohttpd baseline in the same run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/deps.sh bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGV_TESTS=OFF -DGV_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
tools=build-bench/bench-tools
mkdir -p "$tools"
cc -O2 -Wall -o "$tools/baseline_mhd" bench/baseline_mhd.c $(pkg-config --cflags --libs libmicrohttpd)
cc -O2 -Wall -pthread -o "$tools/argon2_baseline" bench/argon2_baseline.c $(pkg-config --cflags --libs libargon2)
cc -O2 -Wall -o "$tools/import_baseline" bench/import_baseline.c $(pkg-config --cflags --libs sqlite3)
python3 bench/bench.py "$root/build-bench/src" "$root/$tools"
python3 bench/audit_bench.py "$root/build-bench"
python3 bench/records_bench.py "$root/build-bench"
python3 bench/import_bench.py "$root/build-bench" "$root/$tools/import_baseline"
python3 bench/pii_bench.py "$root/build-bench"
python3 bench/policy_bench.py "$root/build-bench"
python3 bench/masked_read_bench.py "$root/build-bench" "$root/$tools"
# Data-service calls/s (issue 6): consumers calling an exact-match lookup service over
# HTTP Basic, masked and audited, beside bare libmicrohttpd; audit records checked.
python3 bench/service_bench.py "$root/build-bench" "$root/$tools"
