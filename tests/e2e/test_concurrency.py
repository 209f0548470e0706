"""Races: parallel requests must not slip past the lockout counter, the session limit or
the one-use rule for TOTP codes."""
import concurrent.futures
import threading
import unittest

from gvtest import DaemonTest

WRONG = "Wrong-Pass-123x"


def parallel(n, fn):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(10)
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(run, range(n)))


class ConcurrencyTest(DaemonTest):
    extra = "[server]\nthreads = 8\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = cls.d.activate_admin("secadmin").token

    def test_parallel_wrong_passwords_lock_the_account(self):
        d = self.d
        token, pw = d.user(self.sec, "rita")
        statuses = [s for s, _ in parallel(16, lambda i: d.login("rita", WRONG))]
        self.assertEqual(statuses, [401] * 16)
        a = d.account(self.sec, "rita")
        self.assertEqual(a["status"], "locked", a)
        self.assertError(d.login("rita", pw), 401, "invalid_credentials")

    def test_parallel_logins_respect_the_session_limit(self):
        d = self.d
        token, pw = d.user(self.sec, "sven")
        d.logout(token)
        results = parallel(12, lambda i: d.login("sven", pw))
        ok = [r for s, r in results if s == 200]
        refused = [r for s, r in results if s == 409]
        self.assertEqual((len(ok), len(refused)), (3, 9), [s for s, _ in results])
        self.assertTrue(all(r["error"]["code"] == "limit_reached" for r in refused))
        for r in ok:
            d.logout(r["token"])

    def test_a_totp_code_is_accepted_once_under_concurrency(self):
        d = self.d
        token, pw = d.activate_user("tina", d.new_user(self.sec, "tina", clearance=3),
                                    expect_stage="totp_enroll")
        auth, codes, _ = d.enroll(token)
        d.logout(token)
        tokens = []
        for _ in range(3):
            s, r = d.login("tina", pw)
            self.assertEqual((s, r["stage"]), (200, "totp_verify"))
            tokens.append(r["token"])
        code = auth.code()
        results = parallel(3, lambda i: d.req("POST", "/v1/auth/totp", {"code": code}, tokens[i]))
        self.assertEqual(sorted(s for s, _ in results), [200, 401, 401], results)

    def test_mixed_load_keeps_serving(self):
        d = self.d

        def one(i):
            kind = i % 4
            if kind == 0:
                return d.req("GET", "/v1/health")[0]
            if kind == 1:
                return d.raw("POST", "/v1/auth/login", b"{broken", {"Content-Type": "application/json"})[0]
            if kind == 2:
                return d.req("GET", "/v1/accounts", token=self.sec)[0]
            return d.login("nobody-%d" % i, WRONG)[0]

        statuses = parallel(24, one)
        self.assertEqual(statuses, [200, 400, 200, 401] * 6)
        self.assertHealthy()


if __name__ == "__main__":
    unittest.main()
