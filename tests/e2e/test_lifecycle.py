"""Account lifecycle: application, approval, first login, password policy and history,
validation, disable/enable, password reset, cancellation and expiry."""
import os
import tempfile
import time
import unittest

from gvtest import DaemonTest, strong_password

COMMON = "Summer-Breeze-2026"  # long and mixed enough, but on the common list below


def utc(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class LifecycleTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="gve2e-common-")
        cls.addClassCleanup(lambda: (os.unlink(os.path.join(tmp, "common.txt")), os.rmdir(tmp)))
        with open(os.path.join(tmp, "common.txt"), "w") as f:
            f.write("#!comment: test list\npassword\n%s\nQwerty-Uiop-1234\n" % COMMON.lower())
        cls.extra = "[password]\ncommon_list = %s\n" % os.path.join(tmp, "common.txt")
        super().setUpClass()
        cls.sec = cls.d.activate_admin("secadmin").token

    def get(self, name):
        return self.d.account(self.sec, name)

    def post(self, name, verb):
        return self.d.req("POST", "/v1/accounts/%s/%s" % (name, verb), None, self.sec)

    def test_application_approval_and_first_login(self):
        d = self.d
        s, r = d.apply(self.sec, "carol", department="Ops", clearance=2)
        self.assertEqual(s, 201, r)
        self.assertEqual((r["status"], r["created_by"], r["approved_by"], r["clearance"],
                          r["department"], r["must_change_password"]),
                         ("pending", "secadmin", "", 2, "Ops", False), r)
        self.assertError(d.apply(self.sec, "carol"), 409, "conflict")
        self.assertError(d.login("carol", "anything-at-All-1"), 401, "invalid_credentials")
        s, r = self.post("carol", "approve")
        self.assertEqual((s, r["status"], r["approved_by"], r["must_change_password"]),
                         (200, "active", "secadmin", True), r)
        otp = r["one_time_password"]
        self.assertGreaterEqual(len(otp), 12)
        self.assertNotIn("one_time_password", self.get("carol"))
        self.assertError(self.post("carol", "approve"), 409, "invalid_state")
        s, r = d.login("carol", otp)
        self.assertEqual((s, r["stage"]), (200, "password_change"), r)
        token = r["token"]
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[1]["stage"], "password_change")
        self.assertError(d.req("GET", "/v1/accounts", token=token), 403, "step_required")
        pw = strong_password("carol")
        s, r = d.req("POST", "/v1/auth/password", {"current_password": otp, "new_password": pw}, token)
        self.assertEqual((s, r), (200, {"changed": True, "stage": "active"}))
        a = self.get("carol")
        self.assertEqual((a["must_change_password"], a["totp_enabled"]), (False, False))
        self.assertIsNotNone(a["password_changed_at"])
        self.assertIsNotNone(a["last_login_at"])
        self.assertError(d.login("carol", otp), 401, "invalid_credentials")
        self.assertEqual(d.login("carol", pw)[0], 200)

    def test_password_policy_and_history(self):
        d = self.d
        otp = d.new_user(self.sec, "dave")
        s, r = d.login("dave", otp)
        token = r["token"]

        def change(cur, new):
            return d.req("POST", "/v1/auth/password", {"current_password": cur, "new_password": new}, token)

        for bad in ("Ab1!", "Short-Pw1", "alllowercaseletters", "ALLUPPERCASEONLY", "Abcdefghijklmnop",
                    "My-DAVE-Password-1", "xx" + "dave".upper() + "-2026-x", COMMON, COMMON.upper()):
            self.assertError(change(otp, bad), 422, "password_policy")
        self.assertError(change("Wrong-Current-1", strong_password("dave")), 403, "forbidden")
        self.assertError(change(otp, "Bell\u0007-Pass-1234"), 400, "invalid_request")
        p1, p2, p3 = (strong_password("dave") for _ in range(3))
        self.assertEqual(change(otp, p1)[0], 200)
        self.assertEqual(change(p1, p2)[0], 200)
        self.assertError(change(p2, p1), 422, "password_policy")   # a previous one
        self.assertError(change(p2, p2), 422, "password_policy")   # the current one
        self.assertError(change(p2, otp), 422, "password_policy")  # the one-time one
        self.assertEqual(change(p2, p3)[0], 200)
        self.assertEqual(d.login("dave", p3)[0], 200)
        self.assertError(d.login("dave", p2), 401, "invalid_credentials")

    def test_field_validation(self):
        d = self.d
        future = "2099-12-31"
        bad_applications = [
            dict(outsourced=True),                                    # contractor without expiry
            dict(outsourced=True, expires_at=None),
            dict(expires_at="2020-01-01"),                            # in the past
            dict(expires_at="tomorrow"),
            dict(expires_at="2099-13-01"),
            dict(expires_at="2099-01-01T10:00:00+08:00"),
            dict(clearance=0), dict(clearance=4), dict(clearance="2"),
            dict(outsourced="yes"),
            dict(full_name=""), dict(contact=None),
            dict(nickname="x"),
        ]
        for fields in bad_applications:
            s, r = d.apply(self.sec, "erin", **fields)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), fields)
        for name in ("Erin", "9erin", "er", "erin smith", "e" * 65, "erin/x", ""):
            s, r = d.apply(self.sec, name)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), name)
        self.assertError(d.req("GET", "/v1/accounts/erin", token=self.sec), 404, "not_found")
        s, r = d.apply(self.sec, "erin", outsourced=True, expires_at=future)
        self.assertEqual((s, r["expires_at"], r["outsourced"]), (201, "2099-12-31T00:00:00Z", True), r)
        # Changes are validated the same way.
        for change in ({"expires_at": "2020-01-01"}, {"expires_at": None}, {"username": "erik"},
                       {"status": "active"}, {"clearance": 9}, {"roles": []}):
            s, r = d.req("PATCH", "/v1/accounts/erin", change, self.sec)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), change)
        s, r = d.req("PATCH", "/v1/accounts/erin", {"department": "Audit", "clearance": 2,
                                                    "expires_at": "2098-06-30T12:00:00Z"}, self.sec)
        self.assertEqual((s, r["department"], r["clearance"], r["expires_at"], r["full_name"]),
                         (200, "Audit", 2, "2098-06-30T12:00:00Z", "User erin"), r)
        self.assertError(d.req("PATCH", "/v1/accounts/nobody-here", {"department": "X"}, self.sec),
                         404, "not_found")
        s, r = d.apply(self.sec, "fred", outsourced=False)
        self.assertEqual(s, 201, r)
        self.assertError(d.req("PATCH", "/v1/accounts/fred", {"outsourced": True}, self.sec),
                         400, "invalid_request")

    def test_impossible_calendar_dates_are_refused(self):
        """expires_at must be a real YYYY-MM-DD date, not one normalised by mktime."""
        accepted = []
        for i, value in enumerate(("2099-02-30", "2099-04-31", "2099-1-1", " 2099-01-01")):
            s, r = self.d.apply(self.sec, "gwen%d" % i, outsourced=True, expires_at=value)
            if s != 400:
                accepted.append("%r -> %s %s" % (value, s, r.get("expires_at")))
        self.assertEqual(accepted, [], "malformed expires_at accepted")

    def test_disable_and_enable(self):
        d = self.d
        token, pw = d.user(self.sec, "hugo")
        s, r = self.post("hugo", "disable")
        self.assertEqual((s, r["status"], r["status_reason"]), (200, "disabled", "disabled by administrator"))
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 401, "unauthenticated")
        self.assertError(d.login("hugo", pw), 401, "invalid_credentials")
        s, r = self.post("hugo", "enable")
        self.assertEqual((s, r["status"], r["status_reason"]), (200, "active", ""))
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 401, "unauthenticated")
        s, r = d.login("hugo", pw)
        self.assertEqual((s, r["stage"]), (200, "active"), r)
        d.apply(self.sec, "iris")
        self.assertError(self.post("iris", "enable"), 409, "invalid_state")
        self.assertError(self.post("iris", "disable"), 409, "invalid_state")
        self.assertError(self.post("nobody-here", "disable"), 404, "not_found")

    def test_password_reset(self):
        d = self.d
        token, pw = d.user(self.sec, "jane")
        s, r = self.post("jane", "reset-password")
        self.assertEqual((s, r["must_change_password"]), (200, True), r)
        otp = r["one_time_password"]
        self.assertNotEqual(otp, pw)
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 401, "unauthenticated")
        self.assertError(d.login("jane", pw), 401, "invalid_credentials")
        token, pw2 = d.activate_user("jane", otp)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        d.apply(self.sec, "kyle")
        self.assertError(self.post("kyle", "reset-password"), 409, "invalid_state")

    def test_cancellation_is_final(self):
        d = self.d
        token, pw = d.user(self.sec, "liam")
        s, r = d.req("DELETE", "/v1/accounts/liam", None, self.sec)
        self.assertEqual((s, r["status"], r["status_reason"]), (200, "disabled", "cancelled"), r)
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 401, "unauthenticated")
        self.assertError(d.login("liam", pw), 401, "invalid_credentials")
        self.assertError(self.post("liam", "enable"), 409, "invalid_state")
        self.assertError(self.post("liam", "reset-password"), 409, "invalid_state")
        self.assertError(d.req("PATCH", "/v1/accounts/liam", {"department": "X"}, self.sec), 409, "invalid_state")
        self.assertError(d.req("DELETE", "/v1/accounts/liam", None, self.sec), 409, "invalid_state")
        self.assertEqual(self.get("liam")["status_reason"], "cancelled")
        # Cancelling an application rejects it.
        d.apply(self.sec, "mara")
        self.assertEqual(d.req("DELETE", "/v1/accounts/mara", None, self.sec)[0], 200)
        self.assertError(self.post("mara", "approve"), 409, "invalid_state")
        # The username stays taken.
        self.assertError(d.apply(self.sec, "liam"), 409, "conflict")

    def test_high_clearance_requires_totp(self):
        d = self.d
        token, pw = d.activate_user("nina", d.new_user(self.sec, "nina", clearance=3),
                                    expect_stage="totp_enroll")
        self.assertError(d.req("GET", "/v1/accounts", token=token), 403, "step_required")
        auth, codes, stage = d.enroll(token)
        self.assertEqual(stage, "active")
        token2, pw2 = d.user(self.sec, "omar")
        s, r = d.req("PATCH", "/v1/accounts/omar", {"clearance": 3}, self.sec)
        self.assertEqual(s, 200, r)
        s, r = d.login("omar", pw2)
        self.assertEqual((s, r["stage"]), (200, "totp_enroll"), r)

    def test_expiry_ends_access(self):
        d = self.d
        expires = int(time.time()) + 4
        otp = d.new_user(self.sec, "pia", outsourced=True, expires_at=utc(expires))
        token, pw = d.activate_user("pia", otp)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        time.sleep(max(0, expires - time.time()) + 1.2)
        # The session must not outlive the account's expiry date.
        s_session = d.req("GET", "/v1/auth/me", token=token)[0]
        self.assertError(d.login("pia", pw), 401, "invalid_credentials")
        a = self.get("pia")
        self.assertEqual((a["status"], a["status_reason"]), ("expired", "expiry date reached"), a)
        self.assertError(self.post("pia", "enable"), 409, "invalid_state")
        s, r = d.req("PATCH", "/v1/accounts/pia", {"expires_at": "2099-01-01"}, self.sec)
        self.assertEqual(s, 200, r)
        self.assertEqual(self.post("pia", "enable")[0], 200)
        s, r = d.login("pia", pw)
        self.assertEqual((s, r.get("stage")), (200, "active"), r)
        self.assertEqual(s_session, 401, "a session of an expired account was still accepted after expires_at")


if __name__ == "__main__":
    unittest.main()
