"""Audit log figures with baselines measured in the same run:
- durable audited appends/s with THREADS concurrent appenders (group commit), beside a
  single writer doing write + fdatasync per record, and beside PostgreSQL single-row
  INSERT commits (pgbench, same concurrency, fsync on) when PostgreSQL is installed;
- verification MB/s (chain, sequence, SM2 checkpoints, witness) beside reading the same
  segment files and hashing them in one SM3 pass.
usage: audit_bench.py BUILD_DIR   (BENCH_SECONDS, default 10; BENCH_THREADS, default 16)"""
import glob, os, re, shutil, socket, subprocess, sys, tempfile, time

BUILD = sys.argv[1]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "16"))
TOOL = os.path.join(BUILD, "bench", "audit_bench")


def run(*args):
    out = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, check=True).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines())}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_commits(work):
    """pgbench single-row INSERT commits/s with THREADS clients and with one client, or
    None when PostgreSQL is not installed."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins or not shutil.which("pgbench"):
        return None
    b = bins[-1]
    pgdata = os.path.join(work, "pg")
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    os.makedirs(pgdata)
    if as_pg:
        shutil.chown(work, "postgres")
        shutil.chown(pgdata, "postgres")
    subprocess.run(as_pg + [b + "/initdb", "-D", pgdata, "--auth=trust", "-U", "bench"],
                   check=True, capture_output=True)
    subprocess.run(as_pg + [b + "/pg_ctl", "-D", pgdata, "-w", "-l", os.path.join(pgdata, "log"),
                            "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=100" % (port, work),
                            "start"], check=True, capture_output=True)
    try:
        psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "bench", "-d", "postgres", "-q", "-c"]
        subprocess.run(psql + ["CREATE TABLE audit (seq bigserial PRIMARY KEY, ts timestamptz, actor text,"
                               " action text, object text, result text, reason text)"], check=True)
        script = os.path.join(work, "insert.sql")
        with open(script, "w") as f:
            f.write("INSERT INTO audit (ts, actor, action, object, result, reason) VALUES "
                    "(now(), 'analyst7', 'record.read', 'dataset:population/record:42', 'permit', 'grant 17');\n")
        os.chmod(work, 0o755)
        os.chmod(script, 0o644)
        tps = []
        for clients in (THREADS, 1):
            out = subprocess.run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", "bench", "-n",
                                  "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(SECONDS),
                                  "-f", script, "postgres"],
                                 capture_output=True, text=True, check=True).stdout
            tps.append(float(re.search(r"tps = ([\d.]+)", out).group(1)))
        return tps
    finally:
        subprocess.run(as_pg + [b + "/pg_ctl", "-D", pgdata, "-m", "fast", "stop"], capture_output=True)


work = tempfile.mkdtemp(prefix="gvbench-")
try:
    seg_dir = os.path.join(work, "audit")
    app = run("append", seg_dir, THREADS, SECONDS)["appends_per_s"]
    fs = run("fsync", os.path.join(work, "fsync.dat"), SECONDS)["fsync_writes_per_s"]
    pg = postgres_commits(work)
    v = run("verify", seg_dir, seg_dir + ".witness", seg_dir + ".key.pem")

    print("\n%-64s %12s %12s %7s" % ("audit metric (this run, %d s each, %d threads)" % (SECONDS, THREADS),
                                      "govvault", "baseline", "ratio"))
    rows = [("durable appends/s vs single writer write+fdatasync/s", app, fs)]
    if pg:
        rows.append(("durable appends/s vs PostgreSQL INSERT commits/s, %d clients" % THREADS, app, pg[0]))
        rows.append(("durable appends/s vs PostgreSQL INSERT commits/s, 1 client", app, pg[1]))
    rows.append(("verify MB/s vs reading + one-pass SM3 of the same files MB/s",
                 v["verify_mb_per_s"], v["read_sm3_mb_per_s"]))
    for name, a, b in rows:
        print("%-64s %12.1f %12.1f %6.2fx" % (name, a, b, a / b))
    if not pg:
        print("(PostgreSQL is not installed: its baseline row was skipped)")
    print("verified %d records" % v["verify_records"])
finally:
    shutil.rmtree(work, ignore_errors=True)
