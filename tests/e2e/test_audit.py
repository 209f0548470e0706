"""The tamper-evident audit log through the real daemon: verification through the API
and offline, signed checkpoints checked with OpenSSL, tamper detection naming the
record, fail-closed on a removed audit directory with automatic resumption, queries,
and a crash loop (SIGKILL under load) after which every 2xx response has its record
and the chain verifies."""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from gvtest import CLI, Daemon, DaemonTest, strong_password

WRONG = "Wrong-password-123!"
FAST_CP = "[audit]\ncheckpoint_records = 20\ncheckpoint_seconds = 1\n"


def offline_verify(d, *extra):
    return subprocess.run([CLI, "audit", "verify", "--data", d.data] + list(extra),
                          capture_output=True, text=True, timeout=60)


class AuditApiTest(DaemonTest):
    extra = FAST_CP

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.aud = cls.d.activate_admin("auditadmin").token
        cls.sec = cls.d.activate_admin("secadmin").token
        cls.sys = cls.d.activate_admin("sysadmin").token

    def test_verify_through_the_api_is_for_the_auditor_only(self):
        d = self.d
        s, r = d.req("POST", "/v1/audit/verify", {}, self.aud)
        self.assertEqual(s, 200, r)
        self.assertTrue(r["ok"], r)
        self.assertGreater(r["records"], 10)
        self.assertGreaterEqual(r["checkpoints"], 1)
        self.assertGreaterEqual(r["witnessed"], 1)
        s, r = d.req("POST", "/v1/audit/verify", {"tail_only": True}, self.aud)
        self.assertTrue(r["ok"], r)
        for tok in (self.sec, self.sys):
            self.assertError(d.req("POST", "/v1/audit/verify", {}, tok), 403, "forbidden")
            self.assertError(d.req("GET", "/v1/audit", token=tok), 403, "forbidden")
            self.assertError(d.req("GET", "/v1/audit/public-key", token=tok), 403, "forbidden")
        self.assertError(d.req("POST", "/v1/audit/verify", {"tail": 1}, self.aud), 400, "invalid_request")

    def test_query_filters_and_the_auditor_is_audited(self):
        d = self.d
        s, r, h = d.call("POST", "/v1/auth/login", {"username": "nobody", "password": WRONG})
        self.assertEqual(s, 401)
        recs, _ = d.audit(self.aud, action="auth.login", result="deny")
        self.assertTrue(any(x["request_id"] == h["X-Request-Id"] for x in recs))
        self.assertTrue(all(x["result"] == "deny" and x["action"] == "auth.login" for x in recs))
        recs, _ = d.audit(self.aud, object="account:nob")
        self.assertTrue(recs and all(x["object"].startswith("account:nob") for x in recs))
        today = time.strftime("%Y-%m-%d", time.gmtime())
        recs, _ = d.audit(self.aud, **{"from": today})
        self.assertTrue(recs)
        recs, _ = d.audit(self.aud, to="2001-01-01")
        self.assertEqual(recs, [])
        self.assertError(d.req("GET", "/v1/audit?from=yesterday", token=self.aud), 400, "invalid_request")
        # The queries above are themselves in the trail, with the auditor as actor.
        recs, _ = d.audit(self.aud, actor="auditadmin", action="audit.list")
        self.assertGreaterEqual(len(recs), 4)
        # Start-up record: version and configuration digest.
        recs, _ = d.audit(self.aud, action="system.start")
        self.assertRegex(recs[0]["reason"], r"^version \S+ config-sm3 [0-9a-f]{64}$")
        # The login body is recorded only as a keyed digest, never in clear.
        recs, _ = d.audit(self.aud, action="auth.login", result="deny")
        self.assertRegex(recs[-1]["body_digest"], r"^[0-9a-f]{64}$")
        self.assertNotIn(WRONG, json.dumps(recs))

    def test_records_with_bytes_that_are_not_utf8_stay_visible(self):
        d = self.d
        s, r, h = d.call("GET", "/v1/accounts/%C3%A9%FF", token=self.sec)
        self.assertEqual(s, 404)
        recs, _ = d.audit(self.aud, action="account.get")
        rec = [x for x in recs if x["request_id"] == h["X-Request-Id"]]
        self.assertEqual(len(rec), 1, recs)
        self.assertIn("\\xff", rec[0]["object"])
        day = 86400
        frm = time.strftime("%Y-%m-%d", time.gmtime(time.time() - day))
        to = time.strftime("%Y-%m-%d", time.gmtime(time.time() + day))
        s, _, body = d.raw("GET", "/v1/audit/export?from=%s&to=%s" % (frm, to),
                           headers={"Authorization": "Bearer " + self.aud})
        self.assertEqual(s, 200)
        self.assertIn(h["X-Request-Id"].encode(), body)

    def test_export_json_lines_with_digest(self):
        d = self.d
        day = 86400
        frm = time.strftime("%Y-%m-%d", time.gmtime(time.time() - day))
        to = time.strftime("%Y-%m-%d", time.gmtime(time.time() + day))
        path = "/v1/audit/export?from=%s&to=%s" % (frm, to)
        s, h, body = d.raw("GET", path, headers={"Authorization": "Bearer " + self.aud})
        self.assertEqual(s, 200, body[:200])
        self.assertEqual(h["Content-Type"], "application/x-ndjson")
        self.assertEqual(h["X-Content-SM3"], hashlib.new("sm3", body).hexdigest())
        lines = body.decode().splitlines()
        recs = [json.loads(x) for x in lines]
        self.assertGreater(len(recs), 10)
        self.assertEqual([x["seq"] for x in recs], sorted(x["seq"] for x in recs))
        s, h, body = d.raw("GET", "/v1/audit/export?from=2001-01-01&to=2001-01-02",
                           headers={"Authorization": "Bearer " + self.aud})
        self.assertEqual((s, body), (200, b""))
        self.assertError(d.req("GET", "/v1/audit/export", token=self.aud), 400, "invalid_request")
        self.assertError(d.req("GET", "/v1/audit/export?from=%s&to=%s" % (to, frm), token=self.aud),
                         400, "invalid_request")
        self.assertError(d.req("GET", path, token=self.sec), 403, "forbidden")
        recs, _ = d.audit(self.aud, action="audit.export", result="permit")
        self.assertGreaterEqual(len(recs), 2)
        self.assertTrue(recs[0]["object"].startswith("audit:"))

    def test_checkpoints_verify_with_openssl(self):
        """A checkpoint's signature verifies with standard tools and the exported key."""
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        d = self.d
        s, r = d.req("GET", "/v1/audit/public-key", token=self.aud)
        self.assertEqual(s, 200, r)
        with open(os.path.join(d.data, "audit-sign.pub.pem")) as f:
            self.assertEqual(f.read().strip(), r["public_key_pem"].strip())
        time.sleep(1.5)  # a time-based checkpoint
        with open(os.path.join(d.data, "audit-witness", "checkpoints.log")) as f:
            node, seq, digest, ts, sig = f.read().splitlines()[-1].split()
        work = os.path.join(d.dir, "ossl")
        os.makedirs(work, exist_ok=True)
        msg = "govvault-audit-checkpoint v1 node=%s seq=%s hash=%s time=%s" % (node, seq, digest, ts)
        with open(os.path.join(work, "msg"), "w") as f:
            f.write(msg)
        with open(os.path.join(work, "sig"), "wb") as f:
            f.write(bytes.fromhex(sig))
        v = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                            os.path.join(d.data, "audit-sign.pub.pem"), "-rawin", "-digest", "sm3",
                            "-pkeyopt", "distid:1234567812345678",
                            "-in", os.path.join(work, "msg"), "-sigfile", os.path.join(work, "sig")],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        with open(os.path.join(work, "msg"), "a") as f:
            f.write("x")
        v = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                            os.path.join(d.data, "audit-sign.pub.pem"), "-rawin", "-digest", "sm3",
                            "-pkeyopt", "distid:1234567812345678",
                            "-in", os.path.join(work, "msg"), "-sigfile", os.path.join(work, "sig")],
                           capture_output=True, text=True)
        self.assertNotEqual(v.returncode, 0)


class TamperTest(unittest.TestCase):
    """Offline verification of a stopped daemon's data directory."""

    def setUp(self):
        self.d = Daemon(FAST_CP)
        self.addCleanup(self.d.cleanup)
        self.d.start()
        for _ in range(30):
            self.d.login("someone", WRONG)
        self.assertEqual(self.d.terminate(), 0)

    def segments(self):
        return sorted(glob.glob(os.path.join(self.d.data, "audit", "seg-*.gva")))

    def test_clean_log_verifies_offline(self):
        r = offline_verify(self.d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(json.loads(r.stdout)["ok"])

    def test_witness_copy_given_explicitly(self):
        """--witness checks the log against a copy kept elsewhere; an empty one fails."""
        copy = os.path.join(self.d.dir, "witness-copy.log")
        shutil.copy(os.path.join(self.d.data, "audit-witness", "checkpoints.log"), copy)
        r = offline_verify(self.d, "--witness", copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual(res["witness"], copy)
        self.assertGreater(res["witnessed"], 0)
        open(copy, "w").close()
        r = offline_verify(self.d, "--witness", copy)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("has no line", json.loads(r.stdout)["problem"])

    def test_changed_byte_is_named(self):
        seg = self.segments()[-1]
        with open(seg, "r+b") as f:
            data = f.read()
            at = data.index(b"someone", len(data) // 2)
            f.seek(at)
            f.write(b"S")
        r = offline_verify(self.d)
        self.assertEqual(r.returncode, 1, r.stdout)
        res = json.loads(r.stdout)
        self.assertFalse(res["ok"])
        self.assertGreater(res["bad_seq"], 0)
        self.assertIn("record %d" % res["bad_seq"], res["problem"])
        self.assertIn("FAILED", r.stderr)

    def test_restart_refuses_a_damaged_log(self):
        seg = self.segments()[-1]
        with open(seg, "r+b") as f:
            data = f.read()
            at = data.index(b"someone", 100)
            f.seek(at)
            f.write(b"X")
        with self.assertRaises(RuntimeError) as cm:
            self.d.start(attempts=1)
        self.assertIn("damaged", str(cm.exception))


class FailClosedTest(DaemonTest):
    extra = FAST_CP

    def test_removed_directory_refuses_then_resumes(self):
        d = self.d
        aud = d.activate_admin("auditadmin").token
        audit_dir = os.path.join(d.data, "audit")
        os.rename(audit_dir, audit_dir + ".moved")
        refused = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            s, r = d.req("GET", "/v1/health")
            if s == 503:
                refused = r
                break
            time.sleep(0.05)
        self.assertIsNotNone(refused, "requests still served after the audit directory was removed")
        self.assertEqual(refused["error"]["code"], "unavailable")
        # Service comes back by itself: a new segment is started in a new directory.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and d.req("GET", "/v1/health")[0] != 200:
            time.sleep(0.1)
        self.assertEqual(d.req("GET", "/v1/health")[0], 200)
        recs, _ = d.audit(aud, action="audit.resumed")
        self.assertEqual(len(recs), 1, recs)
        self.assertIn("removed", recs[0]["reason"])
        s, r = d.req("POST", "/v1/audit/verify", {}, aud)
        self.assertFalse(r["ok"])
        self.assertIn("missing", r["problem"])


def try_mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       capture_output=True, text=True)
    return r.returncode == 0


class DiskFullTest(unittest.TestCase):
    """The audit directory on a small tmpfs: when it fills, requests are refused with
    503 and nothing is served; once there is room again, service resumes by itself."""

    def test_full_disk_refuses_then_resumes(self):
        mnt = tempfile.mkdtemp(prefix="gvfull-")
        if not try_mount_tmpfs(mnt, "96k"):
            os.rmdir(mnt)
            self.skipTest("cannot mount a tmpfs here (needs root)")
        self.addCleanup(lambda: (subprocess.run(["umount", mnt]), os.rmdir(mnt)))
        d = Daemon(FAST_CP + "dir = %s/audit\n" % mnt)
        self.addCleanup(d.cleanup)
        d.start()
        refused = 0
        for _ in range(5000):
            s, r = d.req("GET", "/v1/health")
            if s == 503:
                self.assertEqual(r["error"]["code"], "unavailable")
                refused += 1
                if refused >= 5:
                    break
        self.assertGreaterEqual(refused, 5, "the audit disk never filled up")
        self.assertIn("ALERT: audit log unavailable", d.daemon_log())
        # Room again: the writer notices by itself within seconds.
        subprocess.run(["mount", "-o", "remount,size=16m", mnt], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and d.req("GET", "/v1/health")[0] != 200:
            time.sleep(0.2)
        self.assertEqual(d.req("GET", "/v1/health")[0], 200)
        aud = d.activate_admin("auditadmin").token
        recs, _ = d.audit(aud, action="audit.resumed")
        self.assertGreaterEqual(len(recs), 1)
        self.assertIn("write or fsync failed", recs[0]["reason"])
        s, r = d.req("POST", "/v1/audit/verify", {}, aud)
        self.assertTrue(r["ok"], r)
        self.assertEqual(d.terminate(), 0)


class CrashTest(unittest.TestCase):
    """SIGKILL under concurrent load, three times: every request that got a 2xx has its
    record, and the chain verifies after each restart."""

    def test_kill_under_load(self):
        d = Daemon(FAST_CP)
        self.addCleanup(d.cleanup)
        d.start()
        ok_ids, lock = set(), threading.Lock()
        for round_ in range(3):
            stop = threading.Event()

            def load():
                while not stop.is_set():
                    try:
                        s, _, h = d.call("GET", "/v1/health")
                        if s == 200:
                            with lock:
                                ok_ids.add(h["X-Request-Id"])
                    except Exception:
                        pass

            threads = [threading.Thread(target=load) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.7)
            d.proc.kill()
            d.proc.wait(10)
            stop.set()
            for t in threads:
                t.join(30)
            d.log.close()
            d.proc = None
            # A kill may leave an incomplete batch; the daemon repairs it at start.
            d.start()
        aud = d.activate_admin("auditadmin").token
        s, r = d.req("POST", "/v1/audit/verify", {}, aud)
        self.assertTrue(r["ok"], r)
        seen = set()
        after = 0
        while True:
            recs, _ = d.audit(aud, action="health", after=after)
            if not recs:
                break
            seen.update(x["request_id"] for x in recs)
            after = recs[-1]["seq"]
        self.assertGreater(len(ok_ids), 50)
        self.assertEqual(ok_ids - seen, set(), "2xx responses without an audit record")
        self.assertEqual(d.terminate(), 0)


if __name__ == "__main__":
    unittest.main()
