"""Bootstrap, forced change and TOTP enrolment, role separation, account lifecycle,
and the audit trail of all of it."""
import json
import unittest

from gvtest import DaemonTest, totp


class FlowTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        cls.sec, cls.sec_pw, cls.sec_secret, cls.sec_codes = d.activate_admin("secadmin")
        cls.aud = d.activate_admin("auditadmin")[0]
        cls.sys = d.activate_admin("sysadmin")[0]

    def test_01_bootstrap_printed_three_distinct_passwords(self):
        self.assertEqual(set(self.d.otp), {"sysadmin", "secadmin", "auditadmin"})
        self.assertEqual(len(set(self.d.otp.values())), 3)
        s, r = self.d.req("GET", "/v1/accounts", token=self.sec)
        self.assertEqual(s, 200)
        admins = {a["username"]: a for a in r["accounts"]}
        for name in ("sysadmin", "secadmin", "auditadmin"):
            self.assertEqual(admins[name]["roles"], [name])
            self.assertTrue(admins[name]["totp_enabled"])
            self.assertFalse(admins[name]["must_change_password"])

    def test_02_steps_before_active_are_enforced(self):
        otp = self.d.new_user(self.sec, "stepper", clearance=3)
        s, r = self.d.login("stepper", otp)
        self.assertEqual(r["stage"], "password_change")
        s, r2 = self.d.req("GET", "/v1/auth/me", token=r["token"])
        self.assertEqual((s, r2["stage"]), (200, "password_change"))
        s, r2 = self.d.req("POST", "/v1/auth/totp/enroll", {}, r["token"])
        self.assertEqual((s, r2["error"]["code"]), (403, "step_required"))

    def test_03_role_separation(self):
        d = self.d
        for token, path, want in [
                (self.sys, "/v1/accounts", 403), (self.sys, "/v1/audit", 403),
                (self.sys, "/v1/system/config", 200), (self.sec, "/v1/audit", 403),
                (self.sec, "/v1/system/config", 403), (self.sec, "/v1/sessions", 200),
                (self.aud, "/v1/accounts", 403), (self.aud, "/v1/system/config", 403),
                (self.aud, "/v1/sessions", 403), (self.aud, "/v1/audit", 200)]:
            s, r = d.req("GET", path, token=token)
            self.assertEqual(s, want, (path, r))
            if want == 403:
                self.assertEqual(r["error"]["code"], "forbidden")
        base = {"full_name": "X", "department": "D", "contact": "c"}
        for roles in (["sysadmin", "secadmin"], ["secadmin", "analyst"], ["auditadmin", "reviewer"]):
            s, r = d.req("POST", "/v1/accounts", dict(base, username="dual", roles=roles), self.sec)
            self.assertEqual(s, 403, r)
        for verb in ("disable", "unlock", "reset-password"):
            s, r = d.req("POST", "/v1/accounts/secadmin/" + verb, None, self.sec)
            self.assertEqual(s, 403, (verb, r))
        s, r = d.req("PATCH", "/v1/accounts/secadmin", {"roles": ["auditadmin"]}, self.sec)
        self.assertEqual(s, 403)

    def test_04_lifecycle(self):
        d = self.d
        body = {"username": "carol", "full_name": "Carol", "department": "Ops",
                "contact": "c@x", "roles": ["analyst"]}
        s, r = d.req("POST", "/v1/accounts", dict(body, outsourced=True), self.sec)
        self.assertEqual(s, 400, r)
        s, r = d.req("POST", "/v1/accounts", dict(body, outsourced=True, expires_at="2099-01-01"),
                     self.sec)
        self.assertEqual((s, r["status"], r["created_by"]), (201, "pending", "secadmin"))
        s, r = d.req("POST", "/v1/accounts", body, self.sec)
        self.assertEqual(s, 409)
        s, r = d.login("carol", "anything-at-all")
        self.assertEqual(s, 401)
        s, r = d.req("POST", "/v1/accounts/carol/approve", None, self.sec)
        self.assertEqual((s, r["status"], r["approved_by"]), (200, "active", "secadmin"))
        otp = r["one_time_password"]
        token, pw = d.activate_user("carol", otp)
        # history: the one-time password cannot come back
        s, r = d.req("POST", "/v1/auth/password", {"current_password": pw, "new_password": otp}, token)
        self.assertEqual((s, r["error"]["code"]), (422, "password_policy"))
        s, r = d.req("POST", "/v1/auth/password",
                     {"current_password": pw, "new_password": "password123"}, token)
        self.assertEqual(s, 422)
        s, r = d.req("PATCH", "/v1/accounts/carol", {"department": "Audit", "clearance": 2}, self.sec)
        self.assertEqual((s, r["department"], r["clearance"]), (200, "Audit", 2))
        s, r = d.req("POST", "/v1/accounts/carol/disable", None, self.sec)
        self.assertEqual((s, r["status"]), (200, "disabled"))
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 401)
        self.assertEqual(d.login("carol", pw)[0], 401)
        self.assertEqual(d.req("POST", "/v1/accounts/carol/enable", None, self.sec)[0], 200)
        self.assertEqual(d.login("carol", pw)[0], 200)
        s, r = d.req("DELETE", "/v1/accounts/carol", None, self.sec)
        self.assertEqual((s, r["status"], r["status_reason"]), (200, "disabled", "cancelled"))
        self.assertEqual(d.req("POST", "/v1/accounts/carol/enable", None, self.sec)[0], 409)
        self.assertEqual(d.login("carol", pw)[0], 401)

    def test_05_second_factor(self):
        d = self.d
        s, r = d.login("secadmin", self.sec_pw)
        self.assertEqual(r["stage"], "totp_verify")
        t = r["token"]
        self.assertEqual(d.req("GET", "/v1/accounts", token=t)[1]["error"]["code"], "step_required")
        self.assertEqual(d.req("POST", "/v1/auth/totp", {"code": "000000"}, t)[0], 401)
        s, r = d.req("POST", "/v1/auth/totp", {"recovery_code": self.sec_codes[0]}, t)
        self.assertEqual((s, r["stage"]), (200, "active"))
        s, r = d.login("secadmin", self.sec_pw)
        t = r["token"]
        s, r = d.req("POST", "/v1/auth/totp", {"recovery_code": self.sec_codes[0]}, t)
        self.assertEqual(s, 401, "a recovery code is single-use")
        code = totp(self.sec_secret, 1)
        self.assertEqual(d.req("POST", "/v1/auth/totp", {"code": code}, t)[0], 200)
        s, r = d.login("secadmin", self.sec_pw)
        self.assertEqual((s, r["error"]["code"]), (409, "limit_reached"))

    def test_06_sessions_listed_and_revoked(self):
        d = self.d
        otp = d.new_user(self.sec, "erin")
        token, _ = d.activate_user("erin", otp)
        s, r = d.req("GET", "/v1/sessions", token=self.sec)
        ids = [x["id"] for x in r["sessions"] if x["username"] == "erin"]
        self.assertEqual(len(ids), 1)
        self.assertEqual(d.req("DELETE", "/v1/sessions/" + ids[0], token=self.sec)[0], 200)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 401)
        self.assertEqual(d.req("DELETE", "/v1/sessions/" + ids[0], token=self.sec)[0], 404)

    def test_07_role_restrictions(self):
        d = self.d
        otp = d.new_user(self.sec, "frank", roles=("reviewer",))
        token, pw = d.activate_user("frank", otp)
        s, r = d.req("PUT", "/v1/roles/reviewer/restrictions", {"ip_allowlist": ["10.0.0.0/8"]}, self.sec)
        self.assertEqual(s, 200)
        s, r = d.req("GET", "/v1/auth/me", token=token)
        self.assertEqual((s, r["error"]["code"]), (403, "access_restricted"))
        self.assertEqual(d.login("frank", pw)[0], 403)
        s, r = d.req("PUT", "/v1/roles/reviewer/restrictions",
                     {"ip_allowlist": [], "time_windows": ["mon-sun 00:00-24:00"]}, self.sec)
        self.assertEqual(s, 200)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        s, r = d.req("PUT", "/v1/roles/reviewer/restrictions", {"time_windows": ["someday"]}, self.sec)
        self.assertEqual(s, 400)
        self.assertEqual(d.req("PUT", "/v1/roles/reviewer/restrictions", {}, self.sec)[0], 200)
        # account allowlist
        otp = d.new_user(self.sec, "gina", ip_allowlist=["10.0.0.0/8"])
        s, r = d.login("gina", otp)
        self.assertEqual((s, r["error"]["code"]), (403, "access_restricted"))
        s, r = d.req("PATCH", "/v1/accounts/gina", {"ip_allowlist": ["127.0.0.0/8", "::1"]}, self.sec)
        self.assertEqual(s, 200)
        self.assertEqual(d.login("gina", otp)[0], 200)

    def test_08_system_admin(self):
        s, r = self.d.req("GET", "/v1/system/config", token=self.sys)
        self.assertEqual(r["settings"]["password.min_length"]["value"], "12")
        self.assertTrue(r["settings"]["keys.server_key"]["value"].endswith("keys/server.key"))
        self.assertEqual(self.d.req("POST", "/v1/system/reload", None, self.sys)[0], 200)

    def test_99_audit_trail(self):
        d = self.d
        s, r = d.req("GET", "/v1/audit?limit=1000", token=self.aud)
        self.assertEqual(s, 200)
        recs = r["records"]
        actions = {x["action"] for x in recs}
        for a in ("system.init", "system.start", "account.approved", "auth.login",
                  "auth.password_changed", "auth.totp_enrolled", "account.cancelled",
                  "account.disabled", "session.revoke", "role.restrict"):
            self.assertIn(a, actions)
        denied = [x for x in recs if x["result"] == "deny"]
        self.assertTrue(any(x["action"] == "audit.list" and x["actor"] == "secadmin" for x in denied))
        self.assertTrue(all(x["time"].endswith("Z") for x in recs))
        blob = json.dumps(r)
        for secret in list(d.otp.values()) + [self.sec_pw, self.sec, self.aud, self.sys] + self.sec_codes:
            self.assertNotIn(secret, blob)
        s, r = d.req("GET", "/v1/audit?actor=secadmin&action=auth.login&limit=5", token=self.aud)
        self.assertTrue(0 < len(r["records"]) <= 5)
        self.assertTrue(all(x["actor"] == "secadmin" for x in r["records"]))
        self.assertEqual(d.req("GET", "/v1/audit?limit=0", token=self.aud)[0], 400)


if __name__ == "__main__":
    unittest.main()
