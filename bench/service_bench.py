"""Data-service calls per second end to end (issue 6): govvaultd over HTTPS answering
GET /v1/services/residents-lookup/latest/call?id_no=... for consumers authenticated by
HTTP Basic (client_id:secret), each call checked against the consumer's IP allowlist,
its binding to the service, the service's and the grant's validity, the per-consumer
rate limit and the parameter spec, then an exact-match lookup on the blind index of
id_no, the grade-2 default masking, the grant's rows-per-day count and one audit record
(action service.call), durable as configured by default, before it answers.  wrk at
several connection counts and two sizes of the daemon's worker pool (server.threads),
each beside the bare libmicrohttpd baseline (bench/baseline_mhd.c: same certificate,
same pool size, a fixed JSON answer) driven by the same wrk script in the same run.

Set-up, all through the API: secadmin, an auditadmin, a data owner (Statistics) and a
requester (Health); a grade-2 dataset of BENCH_SERVICE_RECORDS records with 3 sensitive
fields (id_no of kind resident_id with a blind index, name, mobile) imported as CSV;
Health authorised on it; Health's share request with a service whose one required
parameter is id_no (rate_limit_per_minute 60000, the most a service allows;
expected_rows_per_day 10^9, so the grant's daily volume never runs out); the owner's
approval; BENCH_CONSUMERS consumers of Health bound to the service with allowlist
127.0.0.1/32.  The rate limit is per consumer (a token bucket of 60000 that refills at
1000/s), so the wrk script spreads the calls: every request takes a random consumer's
credentials and a random existing resident id (every call finds exactly one record).
Any non-2xx answer (a 429 included) fails the run.  After each govvault run the
service.call audit records written since the previous run are counted through
GET /v1/audit as auditadmin and must be at least the requests wrk completed (they may
exceed it by the calls still in flight when wrk stopped): the figure is for audited
calls.
usage: service_bench.py BUILD_DIR TOOLS_DIR
   (BENCH_SECONDS, default 10; BENCH_CONNECTIONS, default 16,64,256;
    BENCH_SERVER_THREADS, default 4,16 - 4 is the server.threads default;
    BENCH_CONSUMERS, default 64; BENCH_SERVICE_RECORDS, default 5000;
    BENCH_SERVICE_RATE, default 60000 calls/min per consumer - lower it to see the 429 check fail)"""
import base64, datetime, os, sys, tempfile, time, urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import gvtest  # noqa: E402
from httpbench import CONNS, POOLS, SECONDS, baseline, print_table, resident_id, wrk  # noqa: E402

BUILD, TOOLS = sys.argv[1], sys.argv[2]
NCONS = int(os.environ.get("BENCH_CONSUMERS", "64"))
NREC = int(os.environ.get("BENCH_SERVICE_RECORDS", "5000"))
RATE = int(os.environ.get("BENCH_SERVICE_RATE", "60000"))   # per consumer; 60000 is the most allowed
SERVICE = "residents-lookup"
PURPOSE = "benefit eligibility checks"
gvtest.BIN = os.path.join(BUILD, "src")
gvtest.DAEMON = os.path.join(BUILD, "src", "govvaultd")
gvtest.CLI = os.path.join(BUILD, "src", "govvault")

SCHEMA = {"fields": [
    {"name": "id_no", "type": "string", "kind": "resident_id", "indexed": True},
    {"name": "name", "type": "string", "kind": "name"},
    {"name": "mobile", "type": "string", "kind": "mobile"},
    {"name": "district", "type": "string"},
    {"name": "household", "type": "integer"}]}
PARAMS = [{"name": "id_no", "required": True, "max_length": 18, "pattern": "[0-9]{17}[0-9X]"}]


def check(cond, what):
    if not cond:
        raise SystemExit("service_bench: FAILED: " + what)


def csv_rows():
    lines = ["id_no,name,mobile,district,household"]
    for i in range(NREC):
        lines.append("%s,%s,138%08d,%s,%d" % (resident_id(i), "张三丰"[: 2 + i % 2], i,
                                              "east" if i % 2 else "west", i % 7))
    return ("\n".join(lines) + "\n").encode()


def basic(client_id, secret):
    return "Basic " + base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()


def lua_script(creds):
    """Random consumer and random existing resident id per request."""
    ids = ",".join('"%s"' % resident_id(i) for i in range(NREC))
    auth = ",".join('"%s"' % basic(c, s) for c, s in creds)
    return ('local ids = {%s}\n'
            'local auth = {%s}\n'
            'local n = 0\n'
            'setup = function(thread) n = n + 1; thread:set("seed", n) end\n'
            'init = function(args) math.randomseed(os.time() * 1000 + seed) end\n'
            'request = function()\n'
            '  return wrk.format("GET", "/v1/services/%s/latest/call?id_no=" .. ids[math.random(#ids)],\n'
            '                    {["Authorization"] = auth[math.random(#auth)]})\n'
            'end\n' % (ids, auth, SERVICE))


def audit_calls(d, aud, after):
    """service.call audit records with seq > after: (permitted, refused, last seq)."""
    permit = deny = 0
    while True:
        recs, _ = d.audit(aud, action="service.call", after=after)
        for x in recs:
            check(x["action"] == "service.call", "audit filter returned %r" % x["action"])
            if x["result"] == "permit":
                permit += 1
            else:
                deny += 1
        if not recs:
            return permit, deny, after
        after = recs[-1]["seq"]


def setup(d):
    """Accounts, the dataset and its records, the approved share with its service and the
    consumers.  Returns (auditadmin token, [(client_id, secret)])."""
    sec = d.activate_admin("secadmin").token
    aud = d.activate_admin("auditadmin").token
    owner, _ = d.user(sec, "olga", roles=("data_owner",), department="Statistics", clearance=2)
    asker, _ = d.user(sec, "hana", roles=("analyst",), department="Health", clearance=2)
    s, r = d.req("POST", "/v1/datasets", {
        "name": "residents", "title": "Registered residents", "category": "census",
        "description": "service benchmark", "legal_basis": "Statistics Law",
        "retention_days": 3650, "expected_rows": NREC, "schema": SCHEMA}, owner)
    check(s == 201, "register dataset: %s %s" % (s, r))
    check(sum(1 for f in r["schema"]["fields"] if f.get("sensitive")) == 3, "sensitive fields: %s" % r)
    s, r = d.req("POST", "/v1/datasets/residents/grade", {"grade": 2, "reason": "bench"}, sec)
    check(s == 200 and r["grade"] == 2, "grade: %s %s" % (s, r))
    s, hdrs, body = d.raw("POST", "/v1/datasets/residents/batches?source=bench&format=csv", csv_rows(),
                          {"Authorization": "Bearer " + owner, "Content-Type": "text/csv",
                           "X-Purpose": PURPOSE}, timeout=600)
    check(s == 201, "import: %s %s" % (s, body[:2000]))
    s, r = d.req("PUT", "/v1/datasets/residents/share-departments",
                 {"departments": ["Health"], "reason": "receives it by law"}, sec)
    check(s == 200, "authorise Health: %s %s" % (s, r))
    s, r = d.req("POST", "/v1/share-requests", {
        "kind": "share", "dataset": "residents", "purpose": PURPOSE,
        "legal_basis": "Social Assistance Measures Art. 12", "valid_until": (datetime.date.today() + datetime.timedelta(days=700)).isoformat(),
        "expected_rows_per_day": 10 ** 9, "comment": "service benchmark",
        "service": {"name": SERVICE, "params": PARAMS, "max_rows_per_call": 5,
                    "rate_limit_per_minute": RATE}}, asker)
    check(s == 201, "share request: %s %s" % (s, r))
    s, r = d.req("POST", "/v1/share-requests/%d/approve" % r["id"], {"comment": "ok"}, owner)
    check(s == 200 and r["state"] == "approved", "approval: %s %s" % (s, r))
    check(r["data_service"] == {"name": SERVICE, "version": 1}, "service: %s" % r)
    creds = []
    for i in range(NCONS):
        s, r = d.req("POST", "/v1/consumers", {"name": "bench client %d" % i, "department": "Health",
                                               "ip_allowlist": ["127.0.0.1/32"], "services": [SERVICE]},
                     sec)
        check(s == 201, "consumer: %s %s" % (s, r))
        creds.append((r["client_id"], r["client_secret"]))
    return aud, creds


def sample_call(d, cred, i):
    q = urllib.parse.urlencode({"id_no": resident_id(i)})
    s, r, _ = d.call("GET", "/v1/services/%s/latest/call?%s" % (SERVICE, q),
                     headers={"Authorization": basic(*cred)})
    return s, r


def main():
    d = gvtest.Daemon()
    d.purpose = None
    base = None
    script = None
    try:
        d.start()
        t0 = time.monotonic()
        aud, creds = setup(d)
        print("\nset-up: %d records imported, %d consumers (%.1f s)" % (NREC, NCONS, time.monotonic() - t0))
        s, r = sample_call(d, creds[0], 1)
        check(s == 200 and r["count"] == 1, "sample call: %s %s" % (s, r))
        got = r["records"][0]["data"]
        check(got["id_no"] != resident_id(1) and got["mobile"] != "138%08d" % 1,
              "not masked by the grade-2 default: %s" % got)   # masked by the grade-2 default
        print("sample call answer: %s" % r)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(lua_script(creds))
            script = f.name
        _, _, cursor = audit_calls(d, aud, 0)   # the sample call

        rows, audited = [], []
        for pool in POOLS:
            d.terminate()
            d.append_config("[server]\nthreads = %d" % pool)
            d.start()
            base_port = gvtest.free_port()
            base = baseline(TOOLS, d, base_port, pool)
            for conns in CONNS:
                gv, n, bad, sock = wrk(d.port, conns, script)
                check(bad == 0, "%d non-2xx answers (429 included) at %d connections, threads=%d"
                      % (bad, conns, pool))
                time.sleep(0.5)   # calls still in flight when wrk stopped finish and are audited
                permit, deny, cursor = audit_calls(d, aud, cursor)
                check(deny == 0, "%d refused service calls in the audit trail" % deny)
                check(permit >= n, "only %d service.call audit records for %d requests" % (permit, n))
                audited.append((pool, conns, n, permit, sock))
                bare, _, _, _ = wrk(base_port, conns, script)
                rows.append(("service call/s, threads=%d, %d conns" % (pool, conns), gv, bare))
            base.terminate()
            base.wait()
            base = None

        print_table("service calls over HTTPS (this run, %d s each)" % SECONDS, rows)
        print("\n%-40s %14s %22s" % ("audit check (govvault runs)", "wrk requests",
                                     "service.call permits"))
        for pool, conns, n, permit, sock in audited:
            print("%-40s %14d %22d%s" % ("threads=%d, %d conns" % (pool, conns), n, permit,
                                         "  (" + sock + ")" if sock else ""))
        print("(grade-2 dataset of %d records, 5 fields, 3 sensitive; exact-match lookups on the"
              " blind index of id_no, every one a hit, masked by the grade-2 default; HTTP Basic,"
              " %d consumers of %d calls/min each picked at random per request, no 429; wrk -t2 on"
              " the same %d cores; every govvault call appends one audit record, durable (fdatasync,"
              " shared by group commit) before it answers)" % (NREC, NCONS, RATE, os.cpu_count() or 0))
    finally:
        if script:
            os.unlink(script)
        if base:
            base.terminate()
            base.wait()
        d.stop()


main()
