"""Lockout after wrong passwords and wrong codes; identical answers for unknown,
locked and wrong; failures that are not wrong credentials do not count."""
import statistics
import time
import unittest

from gvtest import DaemonTest, totp


class LockoutTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = cls.d.activate_admin("secadmin")[0]

    def body_without_id(self, r):
        r["error"].pop("request_id")
        return r

    def test_lock_unlock_and_identical_answers(self):
        d = self.d
        token, pw = d.activate_user("henry", d.new_user(self.sec, "henry"))
        for _ in range(4):
            self.assertEqual(d.login("henry", "Wrong-Pass-123")[0], 401)
        s, r = d.req("GET", "/v1/accounts/henry", token=self.sec)
        self.assertEqual((r["status"], r["locked_until"]), ("active", None))
        wrong = d.login("henry", "Wrong-Pass-123")
        s, r = d.req("GET", "/v1/accounts/henry", token=self.sec)
        self.assertEqual(r["status"], "locked")
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 401, "lock ends sessions")
        locked = d.login("henry", pw)
        unknown = d.login("nobody-here", pw)
        self.assertEqual(wrong[0], 401)
        self.assertEqual(locked[0], 401)
        self.assertEqual(unknown[0], 401)
        first = self.body_without_id(wrong[1])
        self.assertEqual(first, self.body_without_id(locked[1]))
        self.assertEqual(first, self.body_without_id(unknown[1]))
        # Timing: every path runs one Argon2 verification.
        def median(user, password):
            times = []
            for _ in range(7):
                t0 = time.perf_counter()
                d.login(user, password)
                times.append(time.perf_counter() - t0)
            return statistics.median(times)
        m = [median("henry", pw), median("nobody-here", pw), median("henry", "Wrong-Pass-123")]
        self.assertLess(max(m), 3 * min(m), m)
        s, r = d.req("POST", "/v1/accounts/henry/unlock", None, self.sec)
        self.assertEqual((s, r["status"]), (200, "active"))
        self.assertEqual(d.login("henry", pw)[0], 200)
        self.assertEqual(d.req("POST", "/v1/accounts/henry/unlock", None, self.sec)[0], 409)

    def test_non_credential_failures_do_not_count(self):
        d = self.d
        otp = d.new_user(self.sec, "irene", ip_allowlist=["10.0.0.0/8"])
        for _ in range(6):
            self.assertEqual(d.login("irene", otp)[0], 403)
            self.assertEqual(d.req("POST", "/v1/auth/login", {"username": "irene"})[0], 400)
        s, r = d.req("GET", "/v1/accounts/irene", token=self.sec)
        self.assertEqual(r["status"], "active")

    def test_totp_failures_lock_separately(self):
        d = self.d
        otp = d.new_user(self.sec, "jack", clearance=3)
        token, pw = d.activate_user("jack", otp)
        s, r = d.req("POST", "/v1/auth/totp/enroll", {}, token)
        import re
        secret = re.search(r"secret=([A-Z2-7]+)", r["otpauth_uri"]).group(1)
        self.assertEqual(d.req("POST", "/v1/auth/totp/confirm", {"code": totp(secret)}, token)[0], 200)
        s, r = d.login("jack", pw)
        t = r["token"]
        for i in range(4):
            self.assertEqual(d.req("POST", "/v1/auth/totp", {"code": "123456" if totp(secret) != "123456" else "654321"}, t)[0], 401)
        s, r = d.req("GET", "/v1/accounts/jack", token=self.sec)
        self.assertEqual(r["status"], "active")
        d.req("POST", "/v1/auth/totp", {"code": "000001" if totp(secret) != "000001" else "000002"}, t)
        s, r = d.req("GET", "/v1/accounts/jack", token=self.sec)
        self.assertEqual((r["status"], r["status_reason"]), ("locked", "too many wrong one-time codes"))


if __name__ == "__main__":
    unittest.main()
