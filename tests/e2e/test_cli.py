"""The govvault CLI against the real daemon: login with the forced password change,
whoami, api, error reporting and logout."""
import json
import os
import subprocess
import unittest

from gvtest import CLI, DaemonTest


class CliTest(DaemonTest):
    def cli(self, *args, stdin=""):
        env = dict(os.environ, GOVVAULT_URL="https://127.0.0.1:%d" % self.d.port,
                   GOVVAULT_CACERT=os.path.join(self.d.data, "tls/cert.pem"),
                   GOVVAULT_TOKEN_FILE=os.path.join(self.d.dir, "token"))
        env.pop("GOVVAULT_TOKEN", None)
        return subprocess.run([CLI] + list(args), input=stdin,
                              capture_output=True, text=True, env=env, timeout=60)

    def test_login_whoami_api_logout(self):
        sec = self.d.activate_admin("secadmin").token
        otp = self.d.new_user(sec, "nina")
        r = self.cli("health")
        self.assertEqual((r.returncode, json.loads(r.stdout)["status"]), (0, "ok"))
        r = self.cli("login", "nina", stdin="wrong-password\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid_credentials", r.stderr)
        new = "Blue-River-Pass-7"
        r = self.cli("login", "nina", stdin="%s\n%s\n%s\n" % (otp, new, new))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(new, r.stdout + r.stderr)
        self.assertEqual(oct(os.stat(os.path.join(self.d.dir, "token")).st_mode & 0o777), "0o600")
        r = self.cli("whoami")
        self.assertEqual(json.loads(r.stdout)["username"], "nina")
        r = self.cli("api", "GET", "/v1/accounts")
        self.assertEqual(r.returncode, 1)
        self.assertIn("forbidden", r.stderr)
        r = self.cli("api", "GET", "/v1/auth/me", "{not json")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(self.cli("logout").returncode, 0)
        r = self.cli("whoami")
        self.assertEqual(r.returncode, 1)
        r = self.cli("bogus")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
