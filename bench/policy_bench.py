"""Access decisions per second (see policy_bench.c): policy_decide() over 1000 grants on
100 datasets, on every core, beside two references: the issue's budget (OPA's published
figure of about 1 ms per decision, i.e. 1000 decisions/s per core) and a baseline
measured in this run, the cheapest check of the same question (a read-locked bsearch of
the (dataset, subject) pair over the same grants, same requests and threads).
usage: policy_bench.py BUILD_DIR   (BENCH_SECONDS, default 10)"""
import os, shutil, subprocess, sys, tempfile

BUILD, SECONDS = sys.argv[1], os.environ.get("BENCH_SECONDS", "10")
work = tempfile.mkdtemp(prefix="gvpolbench-")
try:
    out = subprocess.run([os.path.join(BUILD, "bench", "policy_bench"), work, SECONDS],
                         capture_output=True, text=True, check=True).stdout
    v = {k: float(x) for k, x in (line.split() for line in out.splitlines())}
    threads = int(v["threads"])
    dps, base = v["decisions_per_s"], v["baseline_per_s"]
    budget = 1000.0 * threads          # 1 ms of one core per decision
    print("\n%-64s %12s %12s %7s" % ("access decisions (this run, %s s each, %d threads)" % (SECONDS, threads),
                                      "govvault", "baseline", "ratio"))
    for name, a, b in (
            ("decisions/s vs locked bsearch of the same grants/s", dps, base),
            ("decisions/s vs the 1 ms budget (1000/s per core)", dps, budget)):
        print("%-64s %12.1f %12.1f %6.2fx" % (name, a, b, a / b))
    # Core time per decision: threads x wall time / decisions (lower is better).
    ns, base_ns = threads * 1e9 / dps, threads * 1e9 / base
    print("%-64s %12.0f %12.0f %6.2fx" % ("ns of one core per decision vs locked bsearch (lower is better)",
                                          ns, base_ns, ns / base_ns))
    print("(%d grants on %d grade-2 datasets; request mix %.0f%% permit: wrong purpose, no grant,"
          " export not granted, clearance too low; no HTTP, session, store read or audit)"
          % (v["grants"], v["datasets"], 100 * v["permit_share"]))
finally:
    shutil.rmtree(work, ignore_errors=True)
