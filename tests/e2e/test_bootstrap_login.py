"""Bootstrap and the administrators' first login: three one-time passwords from init,
forced password change, TOTP enrolment, the step gate, and the second factor (wrong,
replayed and recovery codes)."""
import os
import stat
import time
import unittest

from gvtest import ADMINS, DaemonTest, secret_from_uri, strong_password, totp_at


class BootstrapTest(DaemonTest):
    """sysadmin goes through its first login step by step in test_02; secadmin and
    auditadmin are activated by the helper (which asserts every step)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secadmin = cls.d.activate_admin("secadmin")
        cls.auditadmin = cls.d.activate_admin("auditadmin")

    def test_01_init_prints_three_distinct_one_time_passwords(self):
        d = self.d
        self.assertEqual(set(d.otp), set(ADMINS), d.init_output)
        self.assertEqual(len(set(d.otp.values())), 3)
        for pw in d.otp.values():
            self.assertGreaterEqual(len(pw), 12)
        for rel in ("govvault.conf", "govvault.db", "keys/server.key", "tls/cert.pem", "tls/key.pem"):
            self.assertTrue(os.path.isfile(os.path.join(d.data, rel)), rel)
        for rel in ("keys/server.key", "tls/key.pem", "govvault.conf"):
            mode = stat.S_IMODE(os.stat(os.path.join(d.data, rel)).st_mode)
            self.assertEqual(mode & 0o077, 0, "%s is readable by others: %o" % (rel, mode))

    def test_02_admins_are_gated_until_all_steps_are_done(self):
        d = self.d
        name = "sysadmin"
        otp = d.otp[name]
        self.assertError(d.login(name, otp + "x"), 401, "invalid_credentials")
        s, r = d.login(name, otp)
        self.assertEqual((s, r["stage"]), (200, "password_change"), r)
        self.assertTrue(r["session_id"] and r["token"].startswith("gv1."))
        token = r["token"]
        # Identity is available at any stage; everything else waits for the steps.
        s, me = d.req("GET", "/v1/auth/me", token=token)
        self.assertEqual((s, me["username"], me["stage"], me["totp_required"]),
                         (200, name, "password_change", True))
        self.assertError(d.req("GET", "/v1/system/config", token=token), 403, "step_required")
        self.assertError(d.req("GET", "/v1/accounts", token=token), 403, "step_required")
        self.assertError(d.req("POST", "/v1/auth/totp/enroll", {}, token), 403, "step_required")
        # The one-time password cannot simply be kept.
        self.assertError(d.req("POST", "/v1/auth/password",
                               {"current_password": otp, "new_password": otp}, token),
                         422, "password_policy")
        new = strong_password(name)
        s, r = d.req("POST", "/v1/auth/password", {"current_password": otp, "new_password": new}, token)
        self.assertEqual((s, r["stage"]), (200, "totp_enroll"), r)
        self.assertError(d.req("GET", "/v1/system/config", token=token), 403, "step_required")
        # No one-time code is expected before enrolment.
        self.assertError(d.req("POST", "/v1/auth/totp", {"code": "123456"}, token), 409, "invalid_state")
        self.assertError(d.req("POST", "/v1/auth/totp/confirm", {"code": "123456"}, token),
                         409, "invalid_state")
        s, r = d.req("POST", "/v1/auth/totp/enroll", {}, token)
        self.assertEqual(s, 200, r)
        self.assertTrue(r["otpauth_uri"].startswith("otpauth://totp/"), r["otpauth_uri"])
        self.assertIn("sysadmin", r["otpauth_uri"])
        secret = secret_from_uri(r["otpauth_uri"])
        step = int(time.time() // 30)
        # A wrong confirmation code leaves the session in the enrolment step.
        wrong = next(c for c in ("000000", "111111", "222222")
                     if c not in {totp_at(secret, step + k) for k in (-1, 0, 1, 2)})
        s, r2 = d.req("POST", "/v1/auth/totp/confirm", {"code": wrong}, token)
        self.assertEqual(s, 400, r2)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[1]["stage"], "totp_enroll")
        self.assertError(d.req("GET", "/v1/system/config", token=token), 403, "step_required")
        s, r2 = d.req("POST", "/v1/auth/totp/confirm", {"code": totp_at(secret, step)}, token)
        self.assertEqual((s, r2["stage"]), (200, "active"), r2)
        s, r2 = d.req("GET", "/v1/system/config", token=token)
        self.assertEqual(s, 200, r2)
        # The code used for confirmation cannot be replayed for the next login.
        s, r3 = d.login(name, new)
        self.assertEqual((s, r3["stage"]), (200, "totp_verify"), r3)
        t2 = r3["token"]
        self.assertError(d.req("GET", "/v1/system/config", token=t2), 403, "step_required")
        self.assertError(d.req("POST", "/v1/auth/password",
                               {"current_password": new, "new_password": strong_password(name)}, t2),
                         403, "step_required")
        self.assertError(d.req("POST", "/v1/auth/totp", {"code": totp_at(secret, step)}, t2),
                         401, "invalid_credentials")
        s, r3 = d.req("POST", "/v1/auth/totp", {"code": totp_at(secret, step + 1)}, t2)
        self.assertEqual((s, r3["stage"]), (200, "active"), r3)
        self.assertEqual(d.req("GET", "/v1/system/config", token=t2)[0], 200)
        # ... and neither can the one just accepted.
        self.assertEqual(d.logout(t2), 200)
        s, r3 = d.login(name, new)
        t3 = r3["token"]
        self.assertError(d.req("POST", "/v1/auth/totp", {"code": totp_at(secret, step + 1)}, t3),
                         401, "invalid_credentials")
        # The old one-time password is gone.
        self.assertError(d.login(name, otp), 401, "invalid_credentials")
        for t in (token, t3):
            self.assertEqual(d.logout(t), 200)

    def test_03_all_three_admins_reach_active(self):
        d = self.d
        for a in (self.secadmin, self.auditadmin):
            s, me = d.req("GET", "/v1/auth/me", token=a.token)
            self.assertEqual((s, me["stage"], me["roles"], me["totp_enabled"]),
                             (200, "active", [a.name], True))
        s, r = d.req("GET", "/v1/accounts", token=self.secadmin.token)
        self.assertEqual(s, 200, r)
        admins = {a["username"]: a for a in r["accounts"] if a["username"] in ADMINS}
        self.assertEqual(set(admins), set(ADMINS))
        # test_02 took sysadmin through its steps; without it sysadmin would still be new.
        self.assertEqual(admins["sysadmin"]["totp_enabled"], True, "run test_02 first")
        for name, a in admins.items():
            self.assertEqual((a["roles"], a["status"], a["totp_enabled"], a["must_change_password"],
                              a["created_by"], a["approved_by"]),
                             ([name], "active", True, False, "init", "init"), a)

    def test_04_recovery_codes_work_once(self):
        d, a = self.d, self.auditadmin
        s, r = d.login(a.name, a.password)
        self.assertEqual(r["stage"], "totp_verify")
        code = a.codes.pop()
        s, r2 = d.req("POST", "/v1/auth/totp", {"recovery_code": code}, r["token"])
        self.assertEqual((s, r2["stage"]), (200, "active"), r2)
        self.assertEqual(d.req("GET", "/v1/audit?limit=1", token=r["token"])[0], 200)
        d.logout(r["token"])
        s, r = d.login(a.name, a.password)
        self.assertError(d.req("POST", "/v1/auth/totp", {"recovery_code": code}, r["token"]),
                         401, "invalid_credentials")
        # Codes are accepted regardless of case and separators.
        s, r2 = d.req("POST", "/v1/auth/totp",
                      {"recovery_code": a.codes.pop().replace("-", "").upper()}, r["token"])
        self.assertEqual((s, r2["stage"]), (200, "active"), r2)
        self.assertError(d.req("POST", "/v1/auth/totp", {"recovery_code": a.codes[0]}, r["token"]),
                         409, "invalid_state")
        self.assertError(d.req("POST", "/v1/auth/totp", {}, r["token"]), 400, "invalid_request")
        d.logout(r["token"])

    def test_05_abandoned_reenrolment_keeps_recovery_codes(self):
        """An active user who starts TOTP re-enrolment but never confirms it keeps the
        old secret, so the old recovery codes must stay valid too."""
        d, a = self.d, self.secadmin
        s, r = d.req("POST", "/v1/auth/totp/enroll", {}, a.token)
        self.assertEqual(s, 200, r)
        d.secrets.update(r["recovery_codes"])
        s, r = d.login(a.name, a.password)
        self.assertEqual((s, r["stage"]), (200, "totp_verify"), r)
        # The old secret still works (the re-enrolment was not confirmed) ...
        s, r2 = d.req("POST", "/v1/auth/totp", {"code": a.auth.code()}, r["token"])
        self.assertEqual((s, r2["stage"]), (200, "active"), r2)
        d.logout(r["token"])
        s, r = d.login(a.name, a.password)
        # ... and so must the old recovery codes.
        s, r2 = d.req("POST", "/v1/auth/totp", {"recovery_code": a.codes[0]}, r["token"])
        self.assertEqual(s, 200, "old recovery code refused after an unconfirmed re-enrolment: %s" % r2)


if __name__ == "__main__":
    unittest.main()
