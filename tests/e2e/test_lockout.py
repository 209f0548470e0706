"""Account lockout: wrong passwords and wrong one-time codes are counted separately,
locked/unknown/wrong logins are indistinguishable (body and timing), failures that are
not wrong credentials do not count, and locks end by unlock or by expiry."""
import signal
import statistics
import time
import unittest

from gvtest import DaemonTest, strong_password

WRONG = "Wrong-Pass-123x"


def timed_login(d, user, password):
    t0 = time.perf_counter()
    status, hdrs, body = d.raw("POST", "/v1/auth/login",
                               '{"username": "%s", "password": "%s"}' % (user, password),
                               {"Content-Type": "application/json"})
    return time.perf_counter() - t0, status, hdrs, body


def normalised(hdrs, body):
    """Body with the request id blanked, and the header names, for comparison."""
    rid = hdrs["X-Request-Id"].encode()
    assert body.count(rid) == 1, body
    return body.replace(rid, b"<id>"), sorted(k for k in hdrs if k not in ("Date",))


class LockoutTest(DaemonTest):
    # Argon2 a little costlier than elsewhere so that it, not scheduling noise or the
    # store's writes, dominates the timing comparison (~10 ms per verification).
    extra = "[password]\nargon2_memory_kib = 8192\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = cls.d.activate_admin("secadmin").token

    def status_of(self, name):
        return self.d.account(self.sec, name)

    def test_lock_after_five_wrong_passwords_then_unlock(self):
        d = self.d
        token, pw = d.user(self.sec, "henry")
        for _ in range(4):
            self.assertError(d.login("henry", WRONG), 401, "invalid_credentials")
        a = self.status_of("henry")
        self.assertEqual((a["status"], a["locked_until"]), ("active", None))
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        self.assertError(d.login("henry", WRONG), 401, "invalid_credentials")
        a = self.status_of("henry")
        self.assertEqual((a["status"], a["status_reason"]), ("locked", "too many wrong passwords"), a)
        self.assertIsNotNone(a["locked_until"])
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 401, "unauthenticated")
        self.assertError(d.login("henry", pw), 401, "invalid_credentials")
        s, r = d.req("POST", "/v1/accounts/henry/unlock", None, self.sec)
        self.assertEqual((s, r["status"], r["locked_until"]), (200, "active", None), r)
        s, r = d.login("henry", pw)
        self.assertEqual((s, r["stage"]), (200, "active"), r)
        self.assertError(d.req("POST", "/v1/accounts/henry/unlock", None, self.sec), 409, "invalid_state")
        self.assertError(d.req("POST", "/v1/accounts/nobody-here/unlock", None, self.sec), 404, "not_found")
        d.logout(r["token"])

    def test_success_resets_the_password_counter(self):
        d = self.d
        token, pw = d.user(self.sec, "hilda")
        for _ in range(4):
            d.login("hilda", WRONG)
        s, r = d.login("hilda", pw)
        self.assertEqual(s, 200, r)
        for _ in range(4):
            d.login("hilda", WRONG)
        self.assertEqual(self.status_of("hilda")["status"], "active")

    def test_unknown_locked_and_wrong_answer_identically(self):
        d = self.d
        _, pw_locked = d.user(self.sec, "ivan")
        for _ in range(5):
            d.login("ivan", WRONG)
        self.assertEqual(self.status_of("ivan")["status"], "locked")
        wrong_users = []
        for name in ("jules", "karin", "lotte"):
            d.user(self.sec, name)
            wrong_users.append(name)
        d.apply(self.sec, "petra")  # pending: no password yet
        _, pw_disabled = d.user(self.sec, "dora")
        self.assertEqual(d.req("POST", "/v1/accounts/dora/disable", None, self.sec)[0], 200)

        cases = {
            "unknown": lambda i: ("nobody-here", pw_locked),
            "locked (right password)": lambda i: ("ivan", pw_locked),
            "locked (wrong password)": lambda i: ("ivan", WRONG),
            # at most 3 wrong tries per account, so none of them locks meanwhile
            "wrong password": lambda i: (wrong_users[i % 3], WRONG),
            "pending": lambda i: ("petra", WRONG),
            "disabled (right password)": lambda i: ("dora", pw_disabled),
        }
        reference, times = None, {}
        for label, who in cases.items():
            times[label] = []
            for i in range(7):
                t, status, hdrs, body = timed_login(d, *who(i))
                self.assertEqual(status, 401, (label, body))
                got = normalised(hdrs, body)
                if reference is None:
                    reference = got
                self.assertEqual(got, reference, label)
                times[label].append(t)
        medians = {k: statistics.median(v) for k, v in times.items()}
        self.assertLess(max(medians.values()), 3 * min(medians.values()),
                        "login timing reveals the case: %r" % medians)
        for name in wrong_users:
            self.assertEqual(self.status_of(name)["status"], "active")

    def test_totp_failures_have_their_own_counter(self):
        d = self.d
        token, pw = d.activate_user("jack", d.new_user(self.sec, "jack", clearance=3),
                                    expect_stage="totp_enroll")
        auth, codes, stage = d.enroll(token)
        self.assertEqual(stage, "active")
        d.logout(token)
        s, r = d.login("jack", pw)
        self.assertEqual(r["stage"], "totp_verify")
        t = r["token"]
        for _ in range(3):
            self.assertError(d.req("POST", "/v1/auth/totp", {"code": auth.wrong_code()}, t),
                             401, "invalid_credentials")
        self.assertError(d.req("POST", "/v1/auth/totp", {"recovery_code": "aaaa-bbbb-cccc"}, t),
                         401, "invalid_credentials")
        # Four wrong codes and four wrong passwords: neither counter has reached five.
        for _ in range(4):
            self.assertError(d.login("jack", WRONG), 401, "invalid_credentials")
        a = self.status_of("jack")
        self.assertEqual(a["status"], "active", a)
        # The fifth wrong code locks, whatever the password counter says.
        self.assertError(d.req("POST", "/v1/auth/totp", {"code": auth.wrong_code()}, t),
                         401, "invalid_credentials")
        a = self.status_of("jack")
        self.assertEqual((a["status"], a["status_reason"]), ("locked", "too many wrong one-time codes"), a)
        self.assertError(d.req("POST", "/v1/auth/totp", {"code": auth.code()}, t), 401, "unauthenticated")
        self.assertError(d.login("jack", pw), 401, "invalid_credentials")
        self.assertEqual(d.req("POST", "/v1/accounts/jack/unlock", None, self.sec)[0], 200)
        s, r = d.login("jack", pw)
        s, r2 = d.req("POST", "/v1/auth/totp", {"recovery_code": codes[0]}, r["token"])
        self.assertEqual((s, r2["stage"]), (200, "active"), r2)
        d.logout(r["token"])

    def test_wrong_current_password_on_change_counts(self):
        """A stolen session must not become a password-guessing oracle."""
        d = self.d
        token, pw = d.user(self.sec, "kurt")
        for i in range(5):
            s, r = d.req("POST", "/v1/auth/password",
                         {"current_password": WRONG, "new_password": strong_password("kurt")}, token)
            self.assertIn(s, (401, 403), r)
        a = self.status_of("kurt")
        self.assertEqual(a["status"], "locked", a)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 401)

    def test_failures_that_are_not_wrong_credentials_do_not_count(self):
        d = self.d
        otp = d.new_user(self.sec, "irene", ip_allowlist=["10.0.0.0/8"])
        for _ in range(6):
            self.assertError(d.login("irene", otp), 403, "access_restricted")
            self.assertError(d.req("POST", "/v1/auth/login", {"username": "irene"}), 400, "invalid_request")
            self.assertError(d.req("POST", "/v1/auth/login", {"username": "irene", "password": 5}),
                             400, "invalid_request")
            self.assertError(d.req("POST", "/v1/auth/login",
                                   {"username": "irene", "password": otp, "otp": "1"}),
                             400, "invalid_request")
        self.assertEqual(self.status_of("irene")["status"], "active")
        s, r = d.req("PATCH", "/v1/accounts/irene", {"ip_allowlist": ["127.0.0.0/8"]}, self.sec)
        self.assertEqual(s, 200, r)
        # Four more wrong passwords still do not lock: the counter was at zero.
        for _ in range(4):
            self.assertError(d.login("irene", WRONG), 401, "invalid_credentials")
        self.assertEqual(self.status_of("irene")["status"], "active")
        s, r = d.login("irene", otp)
        self.assertEqual((s, r["stage"]), (200, "password_change"), r)


class LockExpiryTest(DaemonTest):
    extra = "[lockout]\nmax_failures = 3\nduration_seconds = 2\n"

    def test_lock_ends_by_itself(self):
        d = self.d
        sec = d.activate_admin("secadmin").token
        _, pw = d.user(sec, "lena")
        for _ in range(3):
            d.login("lena", WRONG)
        self.assertEqual(d.account(sec, "lena")["status"], "locked")
        self.assertError(d.login("lena", pw), 401, "invalid_credentials")
        time.sleep(3.1)
        s, r = d.login("lena", pw)
        self.assertEqual(s, 200, r)
        a = d.account(sec, "lena")
        self.assertEqual((a["status"], a["locked_until"]), ("active", None), a)
        # A fresh counter: two wrong passwords do not lock again.
        for _ in range(2):
            d.login("lena", WRONG)
        self.assertEqual(d.account(sec, "lena")["status"], "active")


class TimingAfterCostReloadTest(DaemonTest):
    """Argon2 cost is reloadable.  After raising it (SIGHUP) and a password change, a
    known account's login costs the new Argon2; an unknown user's must cost the same,
    or the answer time tells which usernames exist."""
    extra = "[lockout]\nmax_failures = 100\n"

    def test_unknown_user_costs_as_much_as_a_known_one(self):
        d = self.d
        sec = d.activate_admin("secadmin").token
        token, pw = d.user(sec, "mona")
        d.append_config("[password]\nargon2_memory_kib = 32768\nargon2_iterations = 2")
        d.signal(signal.SIGHUP)
        time.sleep(0.5)
        s, r = d.req("GET", "/v1/auth/me", token=token)
        self.assertEqual(s, 200)
        new = strong_password("mona")
        s, r = d.req("POST", "/v1/auth/password", {"current_password": pw, "new_password": new}, token)
        self.assertEqual(s, 200, r)
        known = [timed_login(d, "mona", WRONG)[0] for _ in range(5)]
        unknown = [timed_login(d, "nobody-here", WRONG)[0] for _ in range(5)]
        mk, mu = statistics.median(known), statistics.median(unknown)
        self.assertLess(max(mk, mu), 3 * min(mk, mu),
                        "known user %.1f ms vs unknown user %.1f ms" % (mk * 1e3, mu * 1e3))


class LoginRehashTest(DaemonTest):
    extra = "[lockout]\nmax_failures = 100\n"

    def test_a_login_rehashes_at_the_new_cost(self):
        """Without a password change: the next successful login stores the hash at the
        new cost, and from then on a wrong password costs what an unknown user's does."""
        d = self.d
        sec = d.activate_admin("secadmin").token
        token, pw = d.user(sec, "nora")
        d.append_config("[password]\nargon2_memory_kib = 32768\nargon2_iterations = 2")
        d.signal(signal.SIGHUP)
        time.sleep(0.5)
        s, r = d.login("nora", pw)
        self.assertEqual(s, 200, r)
        known = [timed_login(d, "nora", WRONG)[0] for _ in range(5)]
        unknown = [timed_login(d, "nobody-here", WRONG)[0] for _ in range(5)]
        mk, mu = statistics.median(known), statistics.median(unknown)
        self.assertLess(max(mk, mu), 3 * min(mk, mu),
                        "known user %.1f ms vs unknown user %.1f ms" % (mk * 1e3, mu * 1e3))


if __name__ == "__main__":
    unittest.main()
