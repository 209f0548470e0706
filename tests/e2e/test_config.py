"""Configuration: refusals at start with file:line diagnostics, the TLS rule for
non-loopback addresses, SIGHUP and API reload (applied, partially applied, refused),
and the daemonised store."""
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import time
import unittest

from gvtest import DAEMON, Daemon


def run_daemon(conf, *args):
    return subprocess.run([DAEMON, "--config", conf, "--foreground"] + list(args),
                          capture_output=True, text=True, timeout=20)


class ConfigRefusalTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.addCleanup(self.d.stop)

    def line_count(self):
        with open(self.d.conf) as f:
            return sum(1 for _ in f)

    def refused(self, text, *expect):
        self.d.append_config(text)
        r = run_daemon(self.d.conf)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        for e in expect:
            self.assertIn(e, r.stderr)
        return r

    def test_unknown_key_refused_with_its_line(self):
        self.d.append_config("[server]\nlisten_port = 1")
        line = self.line_count()
        self.refused("", "govvault.conf:%d:" % line, "unknown key 'listen_port'")

    def test_bad_values_refused_with_their_line(self):
        for text, what in (("[lockout]\nmax_failures = many", "lockout.max_failures"),
                           ("[server]\nport = 70000", "server.port"),
                           ("[server]\ntls = maybe", "server.tls"),
                           ("[session]\nmax_per_account = 0", "session.max_per_account"),
                           ("[accounts]\nutc_offset = +25:00", "utc_offset"),
                           ("[log]\nlevel = chatty", "log.level"),
                           # The one-year floor of audit retention cannot be configured away.
                           ("[audit]\nretention_days = 364", "audit.retention_days"),
                           ("[nonsense]\nkey = 1", "unknown section")):
            with self.subTest(text=text):
                d = Daemon()
                try:
                    d.append_config(text)
                    with open(d.conf) as f:
                        n = sum(1 for _ in f)
                    r = run_daemon(d.conf)
                    self.assertNotEqual(r.returncode, 0)
                    # the offending line is the last one, or the section header before it
                    self.assertRegex(r.stderr, r"govvault\.conf:(%d|%d):" % (n, n - 1))
                    self.assertIn(what, r.stderr)
                finally:
                    d.stop()

    def test_unknown_data_kind_refused_at_start(self):
        d = Daemon()
        try:
            d.append_config("[data]\nimportant_kinds = resident_id,iris")
            r = run_daemon(d.conf)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("important_kinds", r.stderr)
            self.assertIn("iris", r.stderr)
        finally:
            d.stop()

    def test_inconsistent_values_refused(self):
        self.refused("[session]\nidle_timeout_seconds = 600\nabsolute_lifetime_seconds = 300",
                     "idle_timeout_seconds")

    def test_plain_http_on_public_address_refused(self):
        self.refused("[server]\nlisten = 0.0.0.0\ntls = off", "without TLS")
        self.d.append_config("[server]\nlisten = ::")
        r = run_daemon(self.d.conf)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("without TLS", r.stderr)

    def test_plain_http_allowed_on_loopback(self):
        self.d.append_config("[server]\ntls = off")
        self.d.proc = subprocess.Popen([DAEMON, "--config", self.d.conf, "--foreground"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=5)
                    c.request("GET", "/v1/health")
                    r = c.getresponse()
                    self.assertEqual((r.status, json.loads(r.read())["status"]), (200, "ok"))
                    c.close()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                self.fail("no plain-HTTP answer on loopback")
        finally:
            self.assertEqual(self.d.terminate(), 0)

    def test_missing_config_file(self):
        r = run_daemon(os.path.join(self.d.dir, "absent.conf"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("absent.conf", r.stderr)

    def test_daemonised_store_survives_other_readers(self):
        # Regression: the store used to be opened before fork, so the daemon held no
        # SQLite locks and a reader could delete its WAL, losing committed rows.
        r = subprocess.run([DAEMON, "--config", self.d.conf], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.d.data, "govvaultd.pid")) as f:
            pid = int(f.read())
        db = os.path.join(self.d.data, "govvault.db")
        try:
            for _ in range(50):
                try:
                    if self.d.req("GET", "/v1/health")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            c = sqlite3.connect(db)
            before = c.execute("select count(*) from sessions").fetchone()[0]
            c.close()
            for _ in range(3):
                self.assertEqual(self.d.login("sysadmin", self.d.otp["sysadmin"])[0], 200)
        finally:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        c = sqlite3.connect(db)
        after = c.execute("select count(*) from sessions").fetchone()[0]
        c.close()
        self.assertEqual(after, before + 3)


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.addCleanup(self.d.cleanup)
        self.d.start()

    def tearDown(self):
        alive = self.d.proc is not None and self.d.proc.poll() is None
        rc = self.d.terminate()
        self.assertTrue(alive, "govvaultd died:\n" + self.d.daemon_log()[-3000:])
        self.assertEqual(rc, 0, "govvaultd did not exit 0 on SIGTERM")

    def setting(self, token, key):
        s, r = self.d.req("GET", "/v1/system/config", token=token)
        self.assertEqual(s, 200, r)
        return r["settings"][key]["value"]

    def hup(self):
        self.d.signal(signal.SIGHUP)
        time.sleep(0.5)

    def test_sighup_reload(self):
        d = self.d
        sysadm = d.activate_admin("sysadmin").token
        sec = d.activate_admin("secadmin").token
        token, pw = d.user(sec, "mike")
        self.assertEqual(d.login("mike", pw)[0], 200)
        self.assertEqual(d.login("mike", pw)[0], 200)
        self.assertEqual(d.login("mike", pw)[0], 409)  # default limit: 3
        d.append_config("[session]\nmax_per_account = 4\n[server]\nmax_header_bytes = 2048")
        self.hup()
        self.assertEqual(d.login("mike", pw)[0], 200)
        self.assertEqual(d.login("mike", pw)[0], 409)
        self.assertEqual(self.setting(sysadm, "session.max_per_account"), "4")
        # Not reloadable: keeps the value the daemon started with.
        self.assertEqual(self.setting(sysadm, "server.max_header_bytes"), "16384")
        # A broken file is refused as a whole; the daemon keeps serving with the old values.
        d.append_config("[session]\nmax_per_account = 9\nbogus = 1")
        self.hup()
        self.assertIsNone(d.proc.poll(), "a bad reload must not stop the daemon")
        self.assertEqual(d.req("GET", "/v1/health")[0], 200)
        self.assertEqual(self.setting(sysadm, "session.max_per_account"), "4")
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        self.assertIn("reload refused", d.daemon_log())

    def test_api_reload(self):
        d = self.d
        sysadm = d.activate_admin("sysadmin").token
        d.append_config("[lockout]\nmax_failures = 7")
        s, r = d.req("POST", "/v1/system/reload", None, sysadm)
        self.assertEqual((s, r), (200, {"reloaded": True}))
        self.assertEqual(self.setting(sysadm, "lockout.max_failures"), "7")
        d.append_config("[lockout]\nmax_failures = lots")
        with open(d.conf) as f:
            n = sum(1 for _ in f)
        s, r = d.req("POST", "/v1/system/reload", None, sysadm)
        self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), r)
        self.assertIn("govvault.conf:%d:" % n, r["error"]["message"])
        self.assertEqual(self.setting(sysadm, "lockout.max_failures"), "7")
        s, r = d.req("GET", "/v1/system/config", token=sysadm)
        self.assertFalse(r["settings"]["server.port"]["reloadable"])
        self.assertTrue(r["settings"]["lockout.max_failures"]["reloadable"])
        with open(os.path.join(d.data, "keys", "server.key")) as f:
            self.assertNotIn(f.read().strip(), json.dumps(r))

    def test_reload_refuses_an_unknown_data_kind(self):
        """As at start: an unknown kind in data.important_kinds is refused by a reload."""
        d = self.d
        sysadm = d.activate_admin("sysadmin").token
        d.append_config("[data]\nimportant_kinds = resident_id,iris")
        s, r = d.req("POST", "/v1/system/reload", None, sysadm)
        self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), r)
        self.assertIn("iris", r["error"]["message"])
        self.hup()
        self.assertIn("reload refused", d.daemon_log())
        self.assertIsNone(d.proc.poll())

    def test_api_reload_applies_the_log_level(self):
        """log.level is reloadable through the API as through SIGHUP."""
        d = self.d
        sysadm = d.activate_admin("sysadmin").token
        d.append_config("[log]\nlevel = warn")
        self.assertEqual(d.req("POST", "/v1/system/reload", None, sysadm)[0], 200)
        # The reload's own info line is written after the new level applies.
        self.assertNotIn("configuration reloaded by", d.daemon_log())
        d.append_config("[log]\nlevel = info")
        self.assertEqual(d.req("POST", "/v1/system/reload", None, sysadm)[0], 200)
        self.assertIn("configuration reloaded by sysadmin", d.daemon_log())


if __name__ == "__main__":
    unittest.main()
