"""Idle timeout, logout, and the per-account session limit."""
import time
import unittest

from gvtest import DaemonTest


class SessionTest(DaemonTest):
    extra = "[session]\nidle_timeout_seconds = 2\nmax_per_account = 2\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = None

    def admin(self):
        # The secadmin session itself would idle out; log in fresh each time.
        if not hasattr(self.d, "sec_pw"):
            tok, self.d.sec_pw, self.d.sec_secret, self.d.codes = self.d.activate_admin("secadmin")
            return tok
        s, r = self.d.login("secadmin", self.d.sec_pw)
        s, r2 = self.d.req("POST", "/v1/auth/totp", {"recovery_code": self.d.codes.pop()}, r["token"])
        assert s == 200, r2
        return r["token"]

    def test_idle_timeout_logout_and_limit(self):
        d = self.d
        sec = self.admin()
        otp = d.new_user(sec, "kate")
        token, pw = d.activate_user("kate", otp)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        time.sleep(3.2)
        s, r = d.req("GET", "/v1/auth/me", token=token)
        self.assertEqual((s, r["error"]["code"]), (401, "unauthenticated"))
        t1 = d.login("kate", pw)[1]["token"]
        t2 = d.login("kate", pw)[1]["token"]
        s, r = d.login("kate", pw)
        self.assertEqual((s, r["error"]["code"]), (409, "limit_reached"))
        self.assertEqual(d.req("POST", "/v1/auth/logout", None, t1)[0], 200)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=t1)[0], 401)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=t2)[0], 200)
        self.assertEqual(d.login("kate", pw)[0], 200)
        self.assertEqual(d.req("GET", "/v1/auth/me", token="gv1." + "0" * 64)[0], 401)
        self.assertEqual(d.req("GET", "/v1/auth/me")[0], 401)


if __name__ == "__main__":
    unittest.main()
