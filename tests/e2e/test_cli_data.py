"""The govvault CLI's data commands against the real daemon: a data owner logs in through
the CLI, registers a dataset from a JSON file, secadmin confirms its grade, a CSV with one
bad row is streamed in with `batch import`, the quarantined row is listed and corrected,
records are read with their provenance, and `dataset export` verifies the SM3 the daemon
declares.  A second class serves a wrong or missing digest from a stand-in server, since
the daemon cannot be made to lie: the export must then fail and leave no file behind."""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest

from gvtest import CLI, DaemonTest

DATASET = {
    "name": "households", "title": "Households", "category": "civil affairs",
    "description": "household register extract", "legal_basis": "Statistics Law Art. 7",
    "retention_days": 3650, "expected_rows": 100,
    "schema": {"fields": [
        {"name": "code", "type": "string", "required": True, "indexed": True},
        {"name": "city", "type": "string"},
        {"name": "members", "type": "integer"}]},
    "quality_rules": [{"field": "members", "rule": "range", "min": 1, "max": 30}]}

# Row 2 (line 3) breaks the range rule and is quarantined; the others become records.
CSV = "code,city,members\nH001,Zhengzhou,4\nH002,Xinyang,99\nH003,Anyang,2\n"


def sm3_hex(data):
    return hashlib.new("sm3", data).hexdigest()


def run_cli(url, cacert, token_file, args, token=None, stdin=""):
    env = dict(os.environ, GOVVAULT_URL=url, GOVVAULT_TOKEN_FILE=token_file, GOVVAULT_PURPOSE="e2e test")
    env.pop("GOVVAULT_TOKEN", None)
    env.pop("GOVVAULT_CACERT", None)
    if cacert:
        env["GOVVAULT_CACERT"] = cacert
    if token:
        env["GOVVAULT_TOKEN"] = token
    return subprocess.run([CLI] + list(args), input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)


class CliDataTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        cls.sec = d.activate_admin("secadmin").token
        cls.otp = d.new_user(cls.sec, "olga", roles=("data_owner",), clearance=2)
        cls.work = os.path.join(d.dir, "work")
        os.mkdir(cls.work)

    def cli(self, *args, token=None, stdin=""):
        return run_cli("https://127.0.0.1:%d" % self.d.port,
                       os.path.join(self.d.data, "tls/cert.pem"),
                       os.path.join(self.d.dir, "token"), args, token, stdin)

    def ok(self, *args, token=None):
        r = self.cli(*args, token=token)
        self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
        return json.loads(r.stdout)

    def write(self, name, content):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def test_import_quarantine_correct_export(self):
        # The data owner logs in through the CLI (forced password change).
        new = "Grey-Harbour-Gate-5"
        r = self.cli("login", "olga", stdin="%s\n%s\n%s\n" % (self.otp, new, new))
        self.assertEqual(r.returncode, 0, r.stderr)

        # Registration from a file; records need secadmin's grade first.
        ds = self.ok("dataset", "create", self.write("households.json", DATASET))
        self.assertEqual((ds["name"], ds["owner"], ds["grade_confirmed"]), ("households", "olga", False))
        self.assertEqual(ds["quality_rules"][0]["rule"], "range")
        g = self.ok("dataset", "grade", "households", "1", "no personal data", token=self.sec)
        self.assertEqual((g["grade"], g["grade_confirmed"]), (1, True))
        self.assertIn("households", [x["name"] for x in self.ok("dataset", "list")["datasets"]])
        self.assertEqual(self.ok("dataset", "show", "households")["grade"], 1)
        lineage = self.ok("dataset", "lineage", "households")
        self.assertEqual((lineage["sources"], lineage["derived"]), ([], []))

        # The import: streamed with its SM3, committed, one row quarantined.
        csv_path = self.write("households.csv", CSV)
        b = self.ok("batch", "import", "households", csv_path, "--source", "census & survey")
        self.assertEqual((b["state"], b["rows"], b["accepted"], b["quarantined"]),
                         ("committed", 3, 2, 1), b)
        self.assertEqual((b["format"], b["source"]), ("csv", "census & survey"))
        self.assertEqual(b["sm3"], sm3_hex(CSV.encode()))
        self.assertEqual(b["declared_sm3"], sm3_hex(CSV.encode()))
        bid = str(b["id"])
        self.assertEqual(self.ok("batch", "show", "households", bid)["quarantined"], 1)
        self.assertIn(b["id"], [x["id"] for x in self.ok("batch", "list", "households")["batches"]])

        rows = self.ok("batch", "rows", "households", bid, "--status", "quarantined")["rows"]
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual((rows[0]["status"], rows[0]["line"]), ("quarantined", 3))
        self.assertIn("H002", rows[0]["raw"])
        self.assertEqual(rows[0]["reasons"][0]["field"], "members")
        # Paging: --limit and --after reach the query string.
        every = self.ok("batch", "rows", "households", bid)["rows"]
        page = self.ok("batch", "rows", "households", bid, "--limit", "2")
        self.assertEqual(page["rows"], every[:2])
        rest = self.ok("batch", "rows", "households", bid, "--after", str(page["next"]))
        self.assertEqual(rest["rows"], every[2:])

        # A correction that still breaks the rule is refused; a good one becomes a record.
        row = str(rows[0]["row"])
        r = self.cli("batch", "correct", "households", bid, row,
                     self.write("bad-fix.json", {"code": "H002", "city": "Xinyang", "members": 99}))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("HTTP 4", r.stderr)
        fixed = self.ok("batch", "correct", "households", bid, row,
                        self.write("fix.json", {"code": "H002", "city": "Xinyang", "members": 9}))
        self.assertEqual(fixed["version"], 1)
        self.assertEqual(self.ok("batch", "show", "households", bid)["corrected"], 1)
        self.assertEqual(self.ok("batch", "rows", "households", bid, "--status", "quarantined")["rows"], [])
        corrected = self.ok("batch", "rows", "households", bid, "--status", "corrected")["rows"]
        self.assertEqual((corrected[0]["record_id"], corrected[0]["resolved_by"]), (fixed["id"], "olga"))

        # Records and provenance.
        rec = self.ok("record", "get", "households", fixed["id"])
        self.assertEqual(rec["data"], {"code": "H002", "city": "Xinyang", "members": 9})
        src = self.ok("record", "source", "households", fixed["id"])
        self.assertEqual(src["batch"]["id"], b["id"])
        found = self.ok("record", "search", "households", "code", "H001")["records"]
        self.assertEqual([x["source"]["batch"] for x in found], [b["id"]])
        put = self.ok("record", "put", "households",
                      self.write("h4.json", {"code": "H004", "city": "Luoyang", "members": 3}),
                      "--id", "h4")
        self.assertEqual((put["id"], put["version"]), ("h4", 1))
        self.assertEqual(self.ok("record", "get", "households", "h4", "--version", "1")["source"], None)
        self.assertEqual(len(self.ok("record", "history", "households", "h4")["versions"]), 1)

        # Export: streamed to disk, SM3 recomputed from the file, reported with the lines.
        out = os.path.join(self.work, "export.jsonl")
        e = self.ok("dataset", "export", "households", "-o", out)
        with open(out, "rb") as f:
            data = f.read()
        lines = [json.loads(x) for x in data.decode().splitlines()]
        self.assertEqual((e["sm3"], e["lines"], e["bytes"], e["verified"]),
                         (sm3_hex(data), 4, len(data), True))
        self.assertEqual(sorted(x["data"]["code"] for x in lines), ["H001", "H002", "H003", "H004"])
        self.assertEqual(oct(os.stat(out).st_mode & 0o777), "0o600")
        self.assertEqual([n for n in os.listdir(self.work) if ".part" in n], [])

        # Keys, as secadmin; the data owner may not.
        keys = self.ok("keys", "show", "households", token=self.sec)
        v = self.ok("keys", "rotate", "households", token=self.sec)["version"]
        self.assertGreater(v, keys["current"])
        self.assertIn("data_keys", self.ok("keys", "rotate-master", token=self.sec))
        r = self.cli("keys", "rotate", "households")
        self.assertEqual(r.returncode, 1)
        self.assertIn("forbidden", r.stderr)
        self.assertEqual(self.ok("record", "get", "households", "h4")["data"]["code"], "H004")

    def test_refusals(self):
        # A missing file, an unknown format, a missing --source: no request is made.
        missing = os.path.join(self.work, "nope.csv")
        r = self.cli("batch", "import", "households", missing, "--source", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open %s: No such file or directory" % missing, r.stderr)
        r = self.cli("batch", "import", "households", self.write("rows.txt", CSV), "--source", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--format", r.stderr)
        r = self.cli("batch", "import", "households", self.write("rows.csv", CSV))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--source is required", r.stderr)
        r = self.cli("dataset", "create", self.write("broken.json", "{\"name\": "))
        self.assertEqual(r.returncode, 1)
        self.assertIn("broken.json:1:", r.stderr)
        # A name cannot leave its path segment.
        r = self.cli("dataset", "show", "..")
        self.assertEqual(r.returncode, 2)
        r = self.cli("batch", "rows", "households", "1", "--limit", "ten")
        self.assertEqual(r.returncode, 2)
        r = self.cli("dataset", "export", "households")
        self.assertEqual(r.returncode, 2)
        self.assertIn("-o is required", r.stderr)
        r = self.cli("dataset", "frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("dataset export", r.stderr)


class _Exporter(http.server.BaseHTTPRequestHandler):
    """Answers every GET with three JSON lines and the X-Content-SM3 chosen by the path:
    /v1/datasets/good/export the right digest, .../wrong/... another, .../none/... none."""
    protocol_version = "HTTP/1.1"
    body = b'{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n'

    def log_message(self, *args):
        pass

    def do_GET(self):
        digest = {"good": sm3_hex(self.body), "wrong": sm3_hex(self.body + b"x")}.get(
            self.path.split("/")[3])
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Content-Length", str(len(self.body)))
        if digest:
            self.send_header("X-Content-SM3", digest)
        self.end_headers()
        self.wfile.write(self.body)


class CliExportVerificationTest(unittest.TestCase):
    """The CLI's own check of an export, against a server that declares a wrong digest."""

    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gve2e-export-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def export(self, name, out):
        return run_cli("http://127.0.0.1:%d" % self.server.server_address[1], None,
                       os.path.join(self.dir, "token"), ["dataset", "export", name, "-o", out],
                       token="t" * 43)

    def test_digest_checked(self):
        out = os.path.join(self.dir, "good.jsonl")
        r = self.export("good", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["lines"], 3)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), _Exporter.body)

        # A mismatch fails and leaves no file; an existing file is not replaced.
        out = os.path.join(self.dir, "wrong.jsonl")
        r = self.export("wrong", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("verification FAILED", r.stderr)
        self.assertFalse(os.path.exists(out))
        with open(out, "w") as f:
            f.write("earlier export\n")
        self.assertEqual(self.export("wrong", out).returncode, 1)
        with open(out) as f:
            self.assertEqual(f.read(), "earlier export\n")
        r = self.export("none", os.path.join(self.dir, "none.jsonl"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("X-Content-SM3", r.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["good.jsonl", "wrong.jsonl"])


if __name__ == "__main__":
    unittest.main()
