"""Configuration refusals at start, TLS rule for non-loopback addresses, SIGHUP reload."""
import os
import signal
import subprocess
import time
import unittest

from gvtest import BIN, Daemon


def run_daemon(conf):
    return subprocess.run([os.path.join(BIN, "govvaultd"), "--config", conf, "--foreground"],
                          capture_output=True, text=True, timeout=30)


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.stop()

    def append(self, text):
        with open(self.d.conf, "a") as f:
            f.write(text)

    def line_count(self):
        with open(self.d.conf) as f:
            return sum(1 for _ in f)

    def test_unknown_key_refused_with_line(self):
        self.append("[server]\nlisten_port = 1\n")
        r = run_daemon(self.d.conf)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("govvault.conf:%d:" % self.line_count(), r.stderr)
        self.assertIn("unknown key", r.stderr)

    def test_bad_value_refused(self):
        self.append("[lockout]\nmax_failures = many\n")
        r = run_daemon(self.d.conf)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("govvault.conf:%d:" % self.line_count(), r.stderr)

    def test_plain_http_on_public_address_refused(self):
        self.append("[server]\nlisten = 0.0.0.0\ntls = off\n")
        r = run_daemon(self.d.conf)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("without TLS", r.stderr)

    def test_daemonised_store_survives_other_readers(self):
        # Regression: the store used to be opened before fork, so the daemon held no
        # SQLite locks and a reader could delete its WAL, losing audit rows.
        import sqlite3
        r = subprocess.run([os.path.join(BIN, "govvaultd"), "--config", self.d.conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = int(open(os.path.join(self.d.data, "govvaultd.pid")).read())
        try:
            db = os.path.join(self.d.data, "govvault.db")
            for _ in range(50):
                try:
                    if self.d.req("GET", "/v1/health")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            with sqlite3.connect(db) as c:
                before = c.execute("select count(*) from audit_log").fetchone()[0]
            c.close()
            for _ in range(3):
                self.assertEqual(self.d.req("GET", "/v1/health")[0], 200)
        finally:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        c = sqlite3.connect(db)
        after = c.execute("select count(*) from audit_log").fetchone()[0]
        c.close()
        self.assertEqual(after, before + 3)

    def test_sighup_reload(self):
        self.d.start()
        sec = self.d.activate_admin("secadmin")[0]
        otp = self.d.new_user(sec, "mike")
        tok, pw = self.d.activate_user("mike", otp)
        self.assertEqual(self.d.login("mike", pw)[0], 200)
        self.assertEqual(self.d.login("mike", pw)[0], 200)
        self.assertEqual(self.d.login("mike", pw)[0], 409)  # default limit 3
        self.append("[session]\nmax_per_account = 4\n")
        self.d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(self.d.login("mike", pw)[0], 200)
        self.append("[session]\nbogus = 1\n")
        self.d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIsNone(self.d.proc.poll(), "a bad reload must not stop the daemon")
        self.assertEqual(self.d.req("GET", "/v1/health")[0], 200)


if __name__ == "__main__":
    unittest.main()
