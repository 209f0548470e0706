"""What the HTTP benchmarks (masked_read_bench.py, service_bench.py) share: the run
settings from the environment, valid resident ids, wrk against one port, the bare
libmicrohttpd baseline on the daemon's certificate, and the result table."""
import os
import re
import subprocess

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "16,64,256").split(",")]
POOLS = [int(t) for t in os.environ.get("BENCH_SERVER_THREADS", "4,16").split(",")]


def resident_id(i):
    """A valid 18-character resident identity number (GB 11643 check character); distinct
    for i < 21000."""
    body = "110101%04d%02d%02d%03d" % (1950 + i % 50, 1 + i % 12, 1 + i % 28, i % 1000)
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w)) % 11]


def wrk(port, conns, script):
    """wrk -t2 with the Lua script against https://127.0.0.1:port for SECONDS:
    (req/s, completed requests, non-2xx count, socket-errors line or "")."""
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % SECONDS, "-s", script,
                          "https://127.0.0.1:%d" % port], capture_output=True, text=True,
                         check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors:.*", out)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            int(re.search(r"(\d+) requests in", out).group(1)), int(bad.group(1)) if bad else 0,
            sock.group(0) if sock else "")


def baseline(tools, d, port, pool):
    """The bare libmicrohttpd server (TOOLS/baseline_mhd) on port with the daemon's TLS
    certificate and pool threads; the caller terminates it."""
    return subprocess.Popen([os.path.join(tools, "baseline_mhd"), str(port),
                             os.path.join(d.data, "tls/cert.pem"),
                             os.path.join(d.data, "tls/key.pem"), str(pool)])


def print_table(title, rows):
    """rows of (name, govvault/s, baseline/s) with their ratio."""
    print("\n%-64s %12s %12s %7s" % (title, "govvault", "bare MHD", "ratio"))
    for name, a, b in rows:
        print("%-64s %12.1f %12.1f %6.2fx" % (name, a, b, a / b))
