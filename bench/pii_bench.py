"""PII scanner throughput with a baseline measured in the same run (see pii_bench.c):
pii_scan over mixed Chinese/ASCII text, all kinds, checksums validated, vs a PCRE2 JIT
scan of one alternation regex of the same identifier shapes without checksums.
usage: pii_bench.py BUILD_DIR   (BENCH_SECONDS, default 10; BENCH_PII_MIB, default 64)"""
import os, subprocess, sys

BUILD = sys.argv[1]
SECONDS = os.environ.get("BENCH_SECONDS", "10")
MIB = os.environ.get("BENCH_PII_MIB", "64")
out = subprocess.run([os.path.join(BUILD, "bench", "pii_bench"), MIB, SECONDS],
                     capture_output=True, text=True, check=True).stdout
v = {k: float(x) for k, x in (line.split() for line in out.splitlines())}
print("\n%-64s %12s %12s %7s" % ("PII scan (this run, %s s each)" % SECONDS, "govvault", "baseline", "ratio"))
a, b = v["pii_mb_per_s"], v["pcre2_jit_mb_per_s"]
print("%-64s %12.1f %12.1f %6.2fx" % ("pii_scan MB/s (checksums) vs PCRE2 JIT MB/s (shapes only)", a, b, a / b))
print("(%.0f MiB mixed Chinese/ASCII text, %d identifiers, one per %.0f bytes; matches per pass:"
      " pii_scan %d, PCRE2 %d)" % (v["text_bytes"] / 2**20, v["identifiers"],
                                   v["text_bytes"] / max(v["identifiers"], 1), v["pii_matches"],
                                   v["pcre2_matches"]))
