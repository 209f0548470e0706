"""Sessions: idle timeout, absolute lifetime, logout, the per-account limit, and the
security administrator's list and revoke."""
import time
import unittest

from gvtest import DaemonTest

IDLE, ABSOLUTE = 3, 5


class SessionTest(DaemonTest):
    extra = ("[session]\nidle_timeout_seconds = %d\nabsolute_lifetime_seconds = %d\n"
             "max_per_account = 2\n" % (IDLE, ABSOLUTE))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        # The administrator's session would idle out between tests: each test that needs
        # it logs in afresh with a recovery code and logs out again.
        cls.admin = d.activate_admin("secadmin")
        cls.pw = {}
        for name in ("kate", "leon", "mila", "nora", "olaf"):
            token, cls.pw[name] = d.user(cls.admin.token, name)
            d.logout(token)
        d.logout(cls.admin.token)

    def login(self, name):
        s, r = self.d.login(name, self.pw[name])
        self.assertEqual((s, r.get("stage")), (200, "active"), r)
        return r

    def me(self, token):
        return self.d.call("GET", "/v1/auth/me", token=token)

    def test_idle_timeout_and_absolute_lifetime(self):
        idle = self.login("kate")
        self.assertEqual(idle["idle_timeout_seconds"], IDLE)
        t0 = time.monotonic()
        busy = self.login("leon")["token"]
        # `busy` makes a request every 0.4 s, `idle` none after its first.
        self.assertEqual(self.me(idle["token"])[0], 200)
        while time.monotonic() - t0 < IDLE + 0.6:
            self.assertEqual(self.me(busy)[0], 200, "an active session must not idle out")
            time.sleep(0.4)
        s, r, h = self.me(idle["token"])
        self.assertEqual((s, r["error"]["code"]), (401, "unauthenticated"), r)
        self.assertTrue(h.get("WWW-Authenticate", "").startswith("Bearer"), h)
        # The absolute lifetime ends even a busy session (created_at has 1 s granularity).
        while True:
            s = self.me(busy)[0]
            elapsed = time.monotonic() - t0
            if s != 200 or elapsed > ABSOLUTE + 1.5:
                break
            time.sleep(0.2)
        self.assertEqual(s, 401, "session outlived absolute_lifetime_seconds")
        self.assertGreater(elapsed, ABSOLUTE - 1.1)

    def test_logout_invalidates_the_token(self):
        r = self.login("mila")
        self.assertEqual(self.me(r["token"])[0], 200)
        s, body = self.d.req("POST", "/v1/auth/logout", None, r["token"])
        self.assertEqual((s, body), (200, {"logged_out": True}))
        self.assertError(self.d.req("GET", "/v1/auth/me", token=r["token"]), 401, "unauthenticated")
        self.assertError(self.d.req("POST", "/v1/auth/logout", None, r["token"]), 401, "unauthenticated")

    def test_per_account_session_limit(self):
        d = self.d
        t1 = self.login("nora")["token"]
        t2 = self.login("nora")["token"]
        self.assertError(d.login("nora", self.pw["nora"]), 409, "limit_reached")
        self.assertEqual(self.me(t1)[0], 200)
        self.assertEqual(self.me(t2)[0], 200)
        self.assertEqual(d.logout(t1), 200)
        t3 = self.login("nora")["token"]
        self.assertError(d.login("nora", self.pw["nora"]), 409, "limit_reached")
        # Another account is not affected.
        t4 = self.login("mila")["token"]
        for t in (t2, t3, t4):
            d.logout(t)

    def test_admin_lists_and_revokes_sessions(self):
        d = self.d
        sec = d.admin_login(self.admin)
        r = self.login("olaf")
        s, listing = d.req("GET", "/v1/sessions", token=sec)
        self.assertEqual(s, 200, listing)
        mine = [x for x in listing["sessions"] if x["username"] == "olaf"]
        self.assertEqual(len(mine), 1, listing)
        entry = mine[0]
        self.assertEqual(entry["id"], r["session_id"])
        self.assertEqual((entry["stage"], entry["ip"], entry["device_fingerprint"]),
                         ("active", "127.0.0.1", ""))
        self.assertEqual(set(entry), {"id", "username", "stage", "created_at", "last_seen", "ip",
                                      "device_fingerprint"})
        self.assertNotIn(r["token"], str(listing))
        # A session id is not a credential.
        self.assertError(d.req("GET", "/v1/auth/me", token=entry["id"]), 401, "unauthenticated")
        s, body = d.req("DELETE", "/v1/sessions/" + entry["id"], token=sec)
        self.assertEqual((s, body), (200, {"revoked": True}))
        self.assertError(d.req("GET", "/v1/auth/me", token=r["token"]), 401, "unauthenticated")
        self.assertError(d.req("DELETE", "/v1/sessions/" + entry["id"], token=sec), 404, "not_found")
        s, listing = d.req("GET", "/v1/sessions", token=sec)
        self.assertFalse([x for x in listing["sessions"] if x["username"] == "olaf"])
        # Only the security administrator manages sessions.
        t = self.login("olaf")["token"]
        self.assertError(d.req("GET", "/v1/sessions", token=t), 403, "forbidden")
        self.assertError(d.req("DELETE", "/v1/sessions/" + entry["id"], token=t), 403, "forbidden")
        d.logout(t)
        d.logout(sec)

    def test_missing_or_malformed_tokens(self):
        d = self.d
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer gv1." + "0" * 64},
                        {"Authorization": "Basic b2xhZjpwdw=="}, {"Authorization": "bearer x"}):
            s, r, h = d.call("GET", "/v1/auth/me", headers=headers)
            self.assertEqual((s, r["error"]["code"]), (401, "unauthenticated"), headers)
            self.assertIn("WWW-Authenticate", h)


if __name__ == "__main__":
    unittest.main()
