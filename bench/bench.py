"""Drives the benchmark: starts govvaultd (production Argon2 cost) and the bare
libmicrohttpd baseline on the same certificate, prepares an analyst account, then
measures logins/s beside raw Argon2 verifies/s, and requests/s with wrk beside the
baseline.  Every figure is measured in this run."""
import os, re, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import gvtest  # noqa: E402

BUILD, TOOLS, SECONDS = sys.argv[1], sys.argv[2], int(os.environ.get("BENCH_SECONDS", "10"))
THREADS = os.cpu_count() or 2
gvtest.BIN = BUILD
gvtest.DAEMON = os.path.join(BUILD, "govvaultd")
gvtest.CLI = os.path.join(BUILD, "govvault")

d = gvtest.Daemon("[password]\nargon2_memory_kib = 65536\nargon2_iterations = 3\n"
                  "[session]\nmax_per_account = 100\n[lockout]\nmax_failures = 100\n")
d.start()
base_port = gvtest.free_port()
base = subprocess.Popen([os.path.join(TOOLS, "baseline_mhd"), str(base_port),
                         os.path.join(d.data, "tls/cert.pem"), os.path.join(d.data, "tls/key.pem"), "4"])
try:
    sec = d.activate_admin("secadmin").token
    token, pw = d.activate_user("bench", d.new_user(sec, "bench"))

    # Logins per second: THREADS clients in parallel, each session logged out again.
    count, stop = [0], time.time() + SECONDS
    def login_loop():
        while time.time() < stop:
            s, r = d.login("bench", pw)
            assert s == 200, r
            d.req("POST", "/v1/auth/logout", None, r["token"])
            count[0] += 1
    ts = [threading.Thread(target=login_loop) for _ in range(THREADS)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    logins = count[0] / SECONDS
    raw = float(subprocess.run([os.path.join(TOOLS, "argon2_baseline"), "65536", "3", str(THREADS),
                                str(SECONDS)], capture_output=True, text=True, check=True).stdout)

    def wrk(url, header=None):
        cmd = ["wrk", "-t2", "-c16", "-d%ds" % SECONDS, url]
        if header:
            cmd[1:1] = ["-H", header]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    me = wrk("https://127.0.0.1:%d/v1/auth/me" % d.port, "Authorization: Bearer " + token)
    health = wrk("https://127.0.0.1:%d/v1/health" % d.port)
    bare = wrk("https://127.0.0.1:%d/v1/health" % base_port)

    print("\n%-52s %12s %12s %7s" % ("metric (this run, %d s each)" % SECONDS, "govvault", "baseline", "ratio"))
    rows = [("logins/s at Argon2id 64 MiB t=3 vs raw argon2id_verify/s", logins, raw),
            ("authenticated GET /v1/auth/me req/s vs bare MHD", me, bare),
            ("GET /v1/health req/s vs bare MHD", health, bare)]
    for name, a, b in rows:
        print("%-52s %12.1f %12.1f %6.2fx" % (name, a, b, a / b))
    print("\nEach govvault request appends one audit record, durable (fdatasync, shared by group"
          " commit) before it answers.")
finally:
    base.terminate()
    base.wait()
    d.stop()
