"""Separation of duties: each administrator reaches only its own routes, administrator
roles cannot be combined, administrators cannot administer themselves, and the audit
trail records failures and denials without ever holding a secret."""
import json
import unittest

from gvtest import DaemonTest

WRONG = "Wrong-Pass-123x"


class RolesTest(DaemonTest):
    extra = "[log]\nlevel = debug\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        cls.sys = d.activate_admin("sysadmin").token
        cls.sec = d.activate_admin("secadmin").token
        cls.aud = d.activate_admin("auditadmin").token
        cls.ana, cls.ana_pw = d.user(cls.sec, "anna")

    def test_route_matrix(self):
        d = self.d
        who = {"sysadmin": self.sys, "secadmin": self.sec, "auditadmin": self.aud, "analyst": self.ana}
        allowed = {
            ("GET", "/v1/accounts"): {"secadmin"},
            ("GET", "/v1/accounts/anna"): {"secadmin"},
            ("GET", "/v1/roles"): {"secadmin"},
            ("GET", "/v1/sessions"): {"secadmin"},
            ("GET", "/v1/audit"): {"auditadmin"},
            ("GET", "/v1/system/config"): {"sysadmin"},
            ("POST", "/v1/system/reload"): {"sysadmin"},
            ("GET", "/v1/auth/me"): set(who),
            ("GET", "/v1/consumers"): {"secadmin"},
            ("GET", "/v1/reports/service-calls"): {"secadmin", "auditadmin"},
            ("GET", "/v1/share-requests"): {"secadmin", "analyst"},
            ("GET", "/v1/services"): {"secadmin", "analyst"},
        }
        for (method, path), roles in allowed.items():
            for role, token in who.items():
                s, r = d.req(method, path, {} if method == "POST" else None, token)
                if role in roles:
                    self.assertEqual(s, 200, (role, method, path, r))
                else:
                    self.assertEqual((s, r["error"]["code"]), (403, "forbidden"), (role, method, path))
        # Writes are refused to everyone but the security administrator, before any
        # validation or lookup.
        for token in (self.sys, self.aud, self.ana):
            self.assertError(d.apply(token, "zeno"), 403, "forbidden")
            for verb in ("approve", "disable", "enable", "unlock", "reset-password"):
                self.assertError(d.req("POST", "/v1/accounts/anna/" + verb, None, token), 403, "forbidden")
            self.assertError(d.req("PATCH", "/v1/accounts/anna", {"clearance": 2}, token), 403, "forbidden")
            self.assertError(d.req("DELETE", "/v1/accounts/anna", None, token), 403, "forbidden")
            self.assertError(d.req("PUT", "/v1/roles/analyst/restrictions", {}, token), 403, "forbidden")
        self.assertEqual(d.account(self.sec, "anna")["status"], "active")
        # Nobody can change or delete the audit trail.
        for method in ("DELETE", "POST", "PUT", "PATCH"):
            s, r = d.req(method, "/v1/audit", None, self.aud)
            self.assertEqual(s, 405, (method, r))

    def test_administrator_roles_cannot_be_combined(self):
        d = self.d
        for roles in (["sysadmin", "secadmin"], ["secadmin", "analyst"], ["auditadmin", "reviewer"],
                      ["sysadmin", "auditadmin"], ["secadmin", "sysadmin", "auditadmin"]):
            s, r = d.apply(self.sec, "dual", roles)
            self.assertEqual((s, r["error"]["code"]), (403, "forbidden"), roles)
        for roles in ([], ["wizard"], "analyst", [1]):
            s, r = d.apply(self.sec, "dual", roles)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), roles)
        self.assertError(d.req("GET", "/v1/accounts/dual", token=self.sec), 404, "not_found")
        s, r = d.apply(self.sec, "multi", ["analyst", "reviewer", "data_owner"])
        self.assertEqual((s, r["roles"]), (201, ["data_owner", "analyst", "reviewer"]), r)
        self.assertError(d.req("PATCH", "/v1/accounts/anna", {"roles": ["analyst", "secadmin"]}, self.sec),
                         403, "forbidden")
        self.assertEqual(d.account(self.sec, "anna")["roles"], ["analyst"])

    def test_no_self_administration(self):
        d = self.d
        for verb in ("disable", "unlock", "reset-password", "enable", "approve"):
            self.assertError(d.req("POST", "/v1/accounts/secadmin/" + verb, None, self.sec), 403, "forbidden")
        self.assertError(d.req("DELETE", "/v1/accounts/secadmin", None, self.sec), 403, "forbidden")
        for change in ({"roles": ["auditadmin"]}, {"clearance": 3}, {"ip_allowlist": ["127.0.0.1"]},
                       {"time_windows": ["* 00:00-24:00"]}, {"expires_at": "2099-01-01"}):
            self.assertError(d.req("PATCH", "/v1/accounts/secadmin", change, self.sec), 403, "forbidden")
        a = d.account(self.sec, "secadmin")
        self.assertEqual((a["status"], a["roles"], a["clearance"], a["ip_allowlist"]),
                         ("active", ["secadmin"], 1, []))
        self.assertEqual(d.req("GET", "/v1/auth/me", token=self.sec)[0], 200)

    def test_role_change_revokes_sessions(self):
        d = self.d
        token, pw = d.user(self.sec, "bert")
        s, r = d.req("PATCH", "/v1/accounts/bert", {"roles": ["reviewer"]}, self.sec)
        self.assertEqual((s, r["roles"]), (200, ["reviewer"]), r)
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 401, "unauthenticated")
        s, r = d.login("bert", pw)
        s, me = d.req("GET", "/v1/auth/me", token=r["token"])
        self.assertEqual(me["roles"], ["reviewer"])

    def test_zz_audit_trail(self):
        d = self.d
        # A failed login, a step denial and a role denial, each traced by request id.
        s, r, h_fail = d.call("POST", "/v1/auth/login", {"username": "anna", "password": WRONG})
        self.assertEqual(s, 401)
        s, r, h_deny = d.call("GET", "/v1/audit", token=self.sec)
        self.assertEqual(s, 403)
        s, r, h_unknown = d.call("POST", "/v1/auth/login", {"username": "ghost", "password": WRONG})
        records, _ = d.audit(self.aud)
        self.assertTrue(records)
        by_id = {x["request_id"]: x for x in records}
        fail = by_id[h_fail["X-Request-Id"]]
        self.assertEqual((fail["action"], fail["object"], fail["result"], fail["status"]),
                         ("auth.login", "account:anna", "deny", 401), fail)
        self.assertEqual(fail["source"], "127.0.0.1")
        self.assertEqual(by_id[h_unknown["X-Request-Id"]]["object"], "account:ghost")
        deny = by_id[h_deny["X-Request-Id"]]
        self.assertEqual((deny["actor"], deny["roles"], deny["action"], deny["result"], deny["status"]),
                         ("secadmin", "secadmin", "audit.list", "deny", 403), deny)
        actions = {x["action"] for x in records}
        for a in ("system.init", "system.start", "account.applied", "account.approved", "auth.login",
                  "auth.password_changed", "auth.totp_enrolled", "account.roles_changed"):
            self.assertIn(a, actions)
        seqs = [x["seq"] for x in records]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        self.assertTrue(all(x["time"].endswith("Z") for x in records))
        # No password, one-time password, token, recovery code or TOTP secret anywhere.
        blob = json.dumps(records)
        leaked = [x for x in d.secrets if x in blob]
        self.assertEqual(leaked, [], "secrets found in the audit trail")
        self.assertGreater(len(d.secrets), 10)
        log = d.daemon_log()
        self.assertEqual([x for x in d.secrets if x in log], [], "secrets found in the daemon log")
        # Filters and paging.
        recs, _ = d.audit(self.aud, actor="secadmin", action="audit.list")
        self.assertTrue(recs and all((x["actor"], x["action"]) == ("secadmin", "audit.list") for x in recs))
        page, _ = d.audit(self.aud, limit=3)
        self.assertEqual(len(page), 3)
        nxt, _ = d.audit(self.aud, limit=3, after=page[-1]["seq"])
        self.assertTrue(nxt and nxt[0]["seq"] > page[-1]["seq"])
        for q in ("limit=0", "limit=1001", "limit=x", "after=-1", "after="):
            self.assertError(d.req("GET", "/v1/audit?" + q, token=self.aud), 400, "invalid_request")


if __name__ == "__main__":
    unittest.main()
