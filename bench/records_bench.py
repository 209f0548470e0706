"""Record-store figures with baselines measured in the same run (see records_bench.c):
sealing 1 KiB values vs libgcrypt SM4-GCM alone, and point reads by blind index and by
id through the service layer vs plain SQLite point reads of the same rows.
usage: records_bench.py BUILD_DIR   (BENCH_SECONDS, default 10)"""
import os, shutil, subprocess, sys, tempfile

BUILD, SECONDS = sys.argv[1], os.environ.get("BENCH_SECONDS", "10")
work = tempfile.mkdtemp(prefix="gvrecbench-")
try:
    out = subprocess.run([os.path.join(BUILD, "bench", "records_bench"), work, SECONDS],
                         capture_output=True, text=True, check=True).stdout
    v = {k: float(x) for k, x in (line.split() for line in out.splitlines())}
    print("\n%-64s %12s %12s %7s" % ("record store (this run, %s s each)" % SECONDS, "govvault",
                                      "baseline", "ratio"))
    for name, a, b in (
            ("seal 1 KiB field MB/s vs raw SM4-GCM MB/s", v["sm4_seal_mb_per_s"], v["raw_sm4_gcm_mb_per_s"]),
            ("search by blind index/s vs SQLite point reads/s", v["search_per_s"], v["sqlite_point_reads_per_s"]),
            ("read by id/s vs SQLite point reads/s", v["get_per_s"], v["sqlite_point_reads_per_s"])):
        print("%-64s %12.1f %12.1f %6.2fx" % (name, a, b, a / b))
    print("(service layer, no HTTP and no per-request audit record; grade-2 dataset, 2 sealed fields)")
finally:
    shutil.rmtree(work, ignore_errors=True)
