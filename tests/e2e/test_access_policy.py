"""Least-privilege access decisions (issue 5): a table-driven authorisation matrix over
roles x actions x grades x own/other department x purpose, clearance, TOTP, expired
grant, time window, address range and row cap, each cell checked against the real
endpoint and against POST /v1/policy/explain; plus grade-3 two-person grants, field and
row limits, revocation, the masking step and its log."""
import datetime
import hmac
import json
import unittest

from gvtest import DaemonTest

SCHEMA = {"fields": [
    {"name": "id_no", "type": "string", "kind": "resident_id", "indexed": True},
    {"name": "name", "type": "string", "kind": "name"},
    {"name": "district", "type": "string", "indexed": True}]}
ROWS = {"r1": {"id_no": "11010519491231002X", "name": "张三", "district": "east"},
        "r2": {"id_no": "110105194912310056", "name": "李四", "district": "west"}}
PURPOSE = "statistics"


class AccessPolicyTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        d.purpose = None          # every request here says its own purpose
        cls.sec = d.activate_admin("secadmin").token
        cls.aud = d.activate_admin("auditadmin").token
        cls.sys = d.activate_admin("sysadmin").token
        cls.tok = {"sec": cls.sec, "aud": cls.aud, "sys": cls.sys}
        for name, role, dept, clearance in (
                ("owner_a", "data_owner", "Statistics", 3), ("analyst_a", "analyst", "Statistics", 3),
                ("low_a", "analyst", "Statistics", 2), ("reviewer_a", "reviewer", "Statistics", 2),
                ("analyst_b", "analyst", "Health", 3), ("owner_b", "data_owner", "Health", 3),
                ("expired", "analyst", "Statistics", 2), ("window", "analyst", "Statistics", 2),
                ("iprange", "analyst", "Statistics", 2), ("capped", "analyst", "Statistics", 2),
                ("limited", "analyst", "Statistics", 2)):
            cls.tok[name] = cls.account(name, role, dept, clearance)
        d.purpose = PURPOSE
        cls.owner = cls.tok["owner_a"]
        for grade in (1, 2, 3):
            ds = "d%d" % grade
            s, r = d.req("POST", "/v1/datasets", {
                "name": ds, "title": ds, "category": "census", "legal_basis": "Statistics Law",
                "retention_days": 3650, "expected_rows": 2, "schema": SCHEMA}, cls.owner)
            assert s == 201, (s, r)
            s, r = d.req("POST", "/v1/datasets/%s/grade" % ds, {"grade": grade, "reason": "x"}, cls.sec)
            assert s == 200, (s, r)
            for rid, data in ROWS.items():
                s, r = d.req("POST", "/v1/datasets/%s/records" % ds, {"id": rid, "data": data}, cls.owner)
                assert s == 201, (s, r)
        grant = lambda ds, who, **kw: d.grant(cls.sec, ds, who, kind="account", purposes=(PURPOSE,), **kw)
        cls.pending = {}
        for grade in (1, 2, 3):
            g = grant("d%d" % grade, "analyst_a", actions=("read", "search"))
            cls.pending[grade] = g
        grant("d2", "analyst_b", actions=("read",))
        grant("d1", "reviewer_a", actions=("read",), ip_ranges=["10.0.0.0/8"])
        grant("d2", "expired", actions=("read",), valid_from="2020-01-01", valid_until="2020-12-31")
        now = datetime.datetime.utcnow() + datetime.timedelta(hours=8)   # the zone is +08:00
        away = (now + datetime.timedelta(hours=12)).strftime("%H:%M")
        away2 = (now + datetime.timedelta(hours=12, minutes=30)).strftime("%H:%M")
        grant("d1", "window", actions=("read",), time_windows="* %s-%s" % (away, away2))
        grant("d1", "iprange", actions=("read",), ip_ranges=["127.0.0.0/8"])
        grant("d2", "capped", actions=("read", "search"), max_rows_per_day=1)
        grant("d2", "limited", actions=("read", "search", "export"), fields=["name", "district"],
              row_filter={"field": "district", "equals": "east"})

    @classmethod
    def account(cls, name, role, dept, clearance):
        return cls.d.member(cls.sec, name, role, dept, clearance)

    def call(self, who, action, ds, purpose=PURPOSE, rid="r1"):
        path = {"read": "/v1/datasets/%s/records/%s" % (ds, rid),
                "search": "/v1/datasets/%s/search?field=district&value=east" % ds,
                "export": "/v1/datasets/%s/export" % ds}[action]
        hdrs = {"Authorization": "Bearer " + self.tok[who], "X-Purpose": purpose or ""}
        s, h, body = self.d.raw("GET", path, None, hdrs)
        return s, body

    def explain(self, who, action, ds, purpose=PURPOSE):
        s, r = self.d.req("POST", "/v1/policy/explain", {"account": who, "dataset": ds, "action": action,
                                                         "purpose": purpose or "", "ip": "127.0.0.1"},
                          self.sec)
        self.assertEqual(s, 200, r)
        return r

    def check(self, cases):
        for who, action, ds, purpose, want in cases:
            with self.subTest(who=who, action=action, ds=ds, purpose=purpose):
                s, body = self.call(who, action, ds, purpose)
                self.assertEqual(s, want, body[:300])
                if who in ("sec", "aud", "sys"):
                    continue
                r = self.explain(who, action, ds, purpose)
                self.assertEqual(r["decision"], "permit" if want in (200, 429) else "deny", r)

    def test_1_pending_grade3_grant_needs_the_owner(self):
        g = self.pending[3]
        self.assertEqual(g["state"], "pending_approval")
        self.assertEqual(self.pending[2]["state"], "active")
        s, body = self.call("analyst_a", "read", "d3")
        self.assertEqual(s, 403)
        self.assertIn("approval", json.loads(body)["error"]["message"])
        # secadmin cannot approve its own grant; another department's owner cannot see it.
        self.assertError(self.d.req("POST", "/v1/grants/%d/approve" % g["id"], None, self.sec), 403, "forbidden")
        self.assertError(self.d.req("POST", "/v1/grants/%d/approve" % g["id"], None, self.tok["owner_b"]),
                         404, "not_found")
        s, r = self.d.req("POST", "/v1/grants/%d/approve" % g["id"], None, self.owner)
        self.assertEqual((s, r["state"], r["approved_by"]), (200, "active", "owner_a"), r)
        self.assertError(self.d.req("POST", "/v1/grants/%d/approve" % g["id"], None, self.owner),
                         409, "invalid_state")

    def test_2_matrix(self):
        cases = []
        for grade in (1, 2, 3):
            ds = "d%d" % grade
            for action in ("read", "search", "export"):
                # Administrators never reach data; the route admits business roles only.
                for admin in ("sec", "aud", "sys"):
                    cases.append((admin, action, ds, PURPOSE, 403))
                # The custodian: any action, with a purpose; none without.
                cases.append(("owner_a", action, ds, PURPOSE, 200))
                cases.append(("owner_a", action, ds, None, 403))
                # The analyst's grant: read and search, for its purpose only.
                cases.append(("analyst_a", action, ds, PURPOSE, 403 if action == "export" else 200))
                cases.append(("analyst_a", action, ds, None, 403))
                cases.append(("analyst_a", action, ds, "marketing", 403))
                # Another department's data owner has no grant: the data does not exist.
                cases.append(("owner_b", action, ds, PURPOSE, 404))
            # Own department but no grant (grades 1, 2) or clearance below the grade (3):
            # the dataset is visible to the department, the data is not.
            cases.append(("low_a", "read", ds, PURPOSE, 403))
        # Another department's analyst, granted read on d2 only.
        cases += [("analyst_b", "read", "d2", PURPOSE, 200), ("analyst_b", "search", "d2", PURPOSE, 403),
                  ("analyst_b", "read", "d1", PURPOSE, 404), ("analyst_b", "read", "d3", PURPOSE, 404)]
        # Expired grant, outside its time window, outside its address range, inside it.
        cases += [("expired", "read", "d2", PURPOSE, 403), ("window", "read", "d1", PURPOSE, 403),
                  ("reviewer_a", "read", "d1", PURPOSE, 403), ("iprange", "read", "d1", PURPOSE, 200)]
        self.check(cases)
        for who, ds, text in (("expired", "d2", "expired"), ("window", "d1", "time windows"),
                              ("reviewer_a", "d1", "address ranges"), ("analyst_a", "d2", "purpose")):
            s, body = self.call(who, "read", ds, PURPOSE if who != "analyst_a" else "marketing")
            self.assertIn(text, json.loads(body)["error"]["message"])

    def test_3_row_cap_per_day(self):
        self.assertEqual(self.call("capped", "read", "d2")[0], 200)
        s, body = self.call("capped", "read", "d2")
        self.assertEqual(s, 429, body)
        self.assertEqual(json.loads(body)["error"]["code"], "quota_exceeded")

    def test_4_fields_rows_and_masking(self):
        # A grant limited to fields and to the rows of district "east".
        s, body = self.call("limited", "read", "d2", rid="r1")
        r = json.loads(body)
        self.assertEqual((s, sorted(r["data"])), (200, ["district", "name"]), r)
        self.assertNotEqual(r["data"]["name"], "张三")          # grade-2 default masks names
        self.assertEqual(self.call("limited", "read", "d2", rid="r2")[0], 404)
        s, h, body = self.d.raw("GET", "/v1/datasets/d2/export", None,
                                {"Authorization": "Bearer " + self.tok["limited"], "X-Purpose": PURPOSE})
        lines = [json.loads(l) for l in body.decode().splitlines()]
        self.assertEqual([l["id"] for l in lines], ["r1"])
        # The analyst reads masked values; the clear ones appear nowhere in the answer.
        for grade in (2, 3):
            s, body = self.call("analyst_a", "read", "d%d" % grade)
            self.assertEqual(s, 200, body)
            for clear in ("11010519491231002X", "张三"):
                self.assertNotIn(clear.encode(), body)
                self.assertNotIn(json.dumps(clear).encode(), body)
        s, body = self.call("owner_a", "read", "d2")
        self.assertIn("11010519491231002X", json.loads(body)["data"]["id_no"])
        # The masking log: profile and fields, never values, in the audit record.
        recs, _ = self.d.audit(self.aud, action="record.read")
        masked = [r for r in recs if r["actor"] == "analyst_a" and "masked by" in r["masked_fields"]]
        self.assertTrue(masked, recs[-3:])
        self.assertIn("default-grade-2", " ".join(r["masked_fields"] for r in masked))
        self.assertIn("id_no(", masked[-1]["masked_fields"])
        self.assertEqual(masked[-1]["purpose"], PURPOSE)
        blob = json.dumps(recs)
        for clear in ("11010519491231002X", "张三", "李四"):
            self.assertNotIn(clear, blob)
        denied = [r for r in recs if r["result"] == "deny"]
        self.assertTrue(any("purpose" in r["reason"] for r in denied))

    def test_5_revocation_and_profiles(self):
        self.d.clear_profile(self.sec, "statclear")
        g = self.d.grant(self.sec, "d1", "low_a", kind="account", actions=("read", "export"),
                         purposes=(PURPOSE,), profile="statclear")
        s, body = self.call("low_a", "read", "d1")
        self.assertEqual((s, json.loads(body)["data"]["name"]), (200, "张三"))
        # An export under a stored profile (loaded before the records are read).
        s, body = self.call("low_a", "export", "d1")
        self.assertEqual((s, len(body.splitlines())), (200, 2), body[:200])
        s, r = self.d.req("POST", "/v1/grants/%d/revoke" % g["id"], {"reason": "project ended"}, self.sec)
        self.assertEqual((s, r["state"]), (200, "revoked"), r)
        self.assertEqual(self.call("low_a", "read", "d1")[0], 403)
        # Profiles are validated data, versioned.
        s, r = self.d.req("PUT", "/v1/mask-profiles/bad", {"rules": [{"field": "x", "method": "blur"}]},
                          self.sec)
        self.assertError((s, r), 400, "invalid_request")
        self.assertIn("blur", r["error"]["message"])
        s, r = self.d.req("PUT", "/v1/mask-profiles/statclear",
                          {"default": "keep", "free_text": "scan", "rules": []}, self.sec)
        self.assertEqual((s, r["version"]), (200, 2), r)
        s, r = self.d.req("GET", "/v1/mask-profiles", token=self.tok["analyst_a"])
        names = [p["name"] for p in r["profiles"]]
        self.assertIn("default-grade-2", names)
        self.assertIn("statclear", names)
        # Grants: bad requests are refused with reasons.
        for body, text in (({"dataset": "d1", "subject": {"type": "account", "name": "nobody"},
                             "actions": ["read"], "purposes": ["x"], "valid_until": "2099-01-01",
                             "reason": "r"}, "no account"),
                           ({"dataset": "d1", "subject": {"type": "account", "name": "analyst_a"},
                             "actions": ["fly"], "purposes": ["x"], "valid_until": "2099-01-01",
                             "reason": "r"}, "actions"),
                           ({"dataset": "d1", "subject": {"type": "account", "name": "analyst_a"},
                             "actions": ["read"], "purposes": ["x"], "reason": "r"}, "valid_until"),
                           ({"dataset": "d3", "subject": {"type": "account", "name": "low_a"},
                             "actions": ["read"], "purposes": ["x"], "valid_until": "2099-01-01",
                             "reason": "r"}, "clearance"),
                           ({"dataset": "d1", "subject": {"type": "account", "name": "analyst_a"},
                             "actions": ["read"], "purposes": ["x"], "valid_until": "2099-01-01",
                             "fields": ["colour"], "reason": "r"}, "colour")):
            s, r = self.d.req("POST", "/v1/grants", body, self.sec)
            self.assertError((s, r), 400, "invalid_request")
            self.assertIn(text, r["error"]["message"])
        self.assertError(self.d.req("POST", "/v1/grants", {}, self.owner), 403, "forbidden")

    def test_8_review_regressions(self):
        """Bypasses found by the security review stay closed."""
        d = self.d
        # Listing grants must not hang the store (it did: JSON built inside its callback).
        s, r = d.req("GET", "/v1/grants", token=self.sec)
        self.assertEqual(s, 200, r)
        self.assertTrue(r["grants"])
        s, r = d.req("GET", "/v1/grants", token=self.owner)
        self.assertEqual(s, 200, r)
        self.assertEqual(d.req("GET", "/v1/health")[0], 200)
        # Searching a field outside the grant would confirm its values.
        hdrs = {"Authorization": "Bearer " + self.tok["limited"], "X-Purpose": PURPOSE}
        s, _, body = d.raw("GET", "/v1/datasets/d2/search?field=id_no&value=11010519491231002X", None, hdrs)
        self.assertEqual(s, 403, body)
        # A record moved out of the grant's rows is gone in every version and its source.
        cur = d.req("GET", "/v1/datasets/d2/records/r1", token=self.owner)[1]
        s, r = d.req("PUT", "/v1/datasets/d2/records/r1",
                     {"version": cur["version"], "data": dict(cur["data"], district="west")}, self.owner)
        self.assertEqual(s, 200, r)
        for path in ("/v1/datasets/d2/records/r1?version=1", "/v1/datasets/d2/records/r1/history",
                     "/v1/datasets/d2/records/r1/source"):
            s, _, body = d.raw("GET", path, None, hdrs)
            self.assertEqual(s, 404, (path, body))
        s, r = d.req("PUT", "/v1/datasets/d2/records/r1",
                     {"version": cur["version"] + 1, "data": dict(cur["data"], district="east")}, self.owner)
        self.assertEqual(s, 200, r)
        # The custodian's writes pass the decision too: a purpose is needed.
        s, _, body = d.raw("PUT", "/v1/datasets/d2/records/r1", json.dumps(
            {"version": cur["version"] + 2, "data": cur["data"]}),
            {"Authorization": "Bearer " + self.owner, "Content-Type": "application/json", "X-Purpose": ""})
        self.assertEqual(s, 403, body)
        # A refused update (daily cap) writes nothing.
        d.grant(self.sec, "d2", "window", kind="account", actions=("update",), purposes=(PURPOSE,),
                max_rows_per_day=1, fields=["name"])
        put = lambda v: d.req("PUT", "/v1/datasets/d2/records/r2", {"version": v, "data": {"name": "x%d" % v}},
                              self.tok["window"])
        v0 = d.req("GET", "/v1/datasets/d2/records/r2", token=self.owner)[1]["version"]
        self.assertEqual(put(v0)[0], 200)
        self.assertError(put(v0 + 1), 429, "quota_exceeded")
        s, r = d.req("GET", "/v1/datasets/d2/records/r2/history", token=self.owner)
        self.assertEqual(len(r["versions"]), v0 + 1)
        # Raising a grade to 3 suspends grants the data owner never approved.
        d.grant(self.sec, "d2", "analyst_a", kind="account", actions=("read",), purposes=("audit",))
        s, _, body = d.raw("GET", "/v1/datasets/d2/records/r1", None,
                           {"Authorization": "Bearer " + self.tok["analyst_a"], "X-Purpose": "audit"})
        self.assertEqual(s, 200, body)
        self.assertEqual(d.req("POST", "/v1/datasets/d2/grade", {"grade": 3, "reason": "x"}, self.sec)[0], 200)
        s, _, body = d.raw("GET", "/v1/datasets/d2/records/r1", None,
                           {"Authorization": "Bearer " + self.tok["analyst_a"], "X-Purpose": "audit"})
        self.assertEqual(s, 403, body)
        self.assertIn("approval", json.loads(body)["error"]["message"])
        for who in (self.sec, self.owner):   # back to grade 2: two people
            d.req("POST", "/v1/datasets/d2/grade", {"grade": 2, "reason": "x"}, who)

    def test_9b_pseudonym_key_is_not_in_the_audit_log(self):
        """The audit log keeps HMAC(audit key, body) of any request body, even an
        unauthenticated one.  Pseudonym keys once were HMAC(audit key, label): sending the
        label as a body put a profile's key into the log (security review, 2026-11-24)."""
        d = self.d
        s, r = d.req("PUT", "/v1/mask-profiles/pn", {"default": "keep", "free_text": "redact",
                     "rules": [{"kind": "resident_id", "method": "pseudonym"}]}, self.sec)
        self.assertEqual(s, 200, r)
        s, r = d.req("POST", "/v1/datasets", {
            "name": "pn1", "title": "pn1", "category": "census", "legal_basis": "Statistics Law",
            "retention_days": 3650, "expected_rows": 1, "schema": SCHEMA}, self.owner)
        self.assertEqual(s, 201, r)
        self.assertEqual(d.req("POST", "/v1/datasets/pn1/grade", {"grade": 2, "reason": "x"}, self.sec)[0], 200)
        idno = ROWS["r2"]["id_no"]
        s, r = d.req("POST", "/v1/datasets/pn1/records", {"id": "r2", "data": ROWS["r2"]}, self.owner)
        self.assertEqual(s, 201, r)
        d.grant(self.sec, "pn1", "analyst_a", kind="account", actions=("read",), purposes=(PURPOSE,),
                profile="pn")
        s, _, body = d.raw("GET", "/v1/datasets/pn1/records/r2", None,
                           {"Authorization": "Bearer " + self.tok["analyst_a"], "X-Purpose": PURPOSE})
        self.assertEqual(s, 200, body)
        pn = json.loads(body)["data"]["id_no"]
        self.assertRegex(pn, r"^pn_[0-9a-f]{16}$")
        for label in (b"govvault pseudonym v1|pn|pn1", b"govvault pseudonym v2|pn|pn1"):
            d.raw("POST", "/v1/auth/login", label, {"Content-Type": "application/json"})
        recs, _ = d.audit(self.aud, action="auth.login")
        digests = [rec["body_digest"] for rec in recs if rec.get("body_digest")]
        self.assertTrue(digests)
        for dg in digests:
            guess = hmac.new(bytes.fromhex(dg), b"resident_id\0" + idno.encode(), "sm3").hexdigest()
            self.assertNotEqual("pn_" + guess[:16], pn)

    def test_9_outsourced_grant_ends_with_the_account(self):
        d = self.d
        d.purpose = None
        self.tok["contractor"] = d.user(self.sec, "contractor", roles=("analyst",), department="Statistics",
                                        outsourced=True, expires_at="2030-06-30")[0]
        d.purpose = PURPOSE
        g = d.grant(self.sec, "d1", "contractor", kind="account", actions=("read",), purposes=(PURPOSE,))
        self.assertTrue(g["valid_until"].startswith("2030-06-30"), g)
        self.assertEqual(self.call("contractor", "read", "d1")[0], 200)

    def test_7_masked_copy_for_development(self):
        s, r = self.d.req("PUT", "/v1/mask-profiles/dev-test", {
            "description": "development and testing", "default": "redact", "free_text": "redact",
            "rules": [{"kind": "resident_id", "method": "pseudonym"},
                      {"kind": "name", "method": "mask", "keep_first": 1, "keep_last": 0},
                      {"field": "district", "method": "keep"}]}, self.sec)
        self.assertEqual(s, 200, r)

        def copy():
            s, h, body = self.d.raw("POST", "/v1/datasets/d2/masked-copy", json.dumps({"profile": "dev-test"}),
                                    {"Authorization": "Bearer " + self.owner, "X-Purpose": "testing",
                                     "Content-Type": "application/json"})
            self.assertEqual(s, 200, body)
            self.assertEqual(h["X-Content-SM3"], __import__("hashlib").new("sm3", body).hexdigest())
            lines = [json.loads(l) for l in body.decode().splitlines()]
            return body, lines[0]["masked_copy"], lines[1:]

        body, report, recs = copy()
        self.assertEqual((report["profile"], report["records"]), ("dev-test", 2), report)
        self.assertIn("id_no(pseudonym)", report["masking"])
        for clear in ("11010519491231002X", "110105194912310056", "张三", "李四"):
            self.assertNotIn(clear.encode(), body)
            self.assertNotIn(json.dumps(clear).encode(), body)
        self.assertEqual(sorted(r["data"]["district"] for r in recs), ["east", "west"])
        for r in recs:   # ids are pseudonyms, and nothing links back to the original
            self.assertNotIn(r["id"], ("r1", "r2"))
            self.assertNotIn("created_by", r)
            self.assertNotIn("source", r)
        # Irreversible: another copy's pseudonyms do not match this one's.
        _, _, again = copy()
        self.assertNotEqual({r["data"]["id_no"] for r in recs}, {r["data"]["id_no"] for r in again})
        # Only the custodian makes a copy, and only with a real profile.
        self.assertError(self.d.req("POST", "/v1/datasets/d2/masked-copy", {"profile": "dev-test"},
                                    self.tok["analyst_a"]), 403, "forbidden")
        self.assertError(self.d.req("POST", "/v1/datasets/d2/masked-copy", {"profile": "nope"},
                                    self.owner), 400, "invalid_request")

    def test_6_update_through_a_grant(self):
        self.d.grant(self.sec, "d2", "iprange", kind="account", actions=("update",),
                     purposes=(PURPOSE,), fields=["name"],
                     row_filter={"field": "district", "equals": "east"})
        put = lambda rid, data, version=1: self.d.req(
            "PUT", "/v1/datasets/d2/records/" + rid, {"version": version, "data": data},
            self.tok["iprange"])
        s, r = put("r1", {"name": "王五"})
        self.assertEqual((s, r["version"]), (200, 2), r)
        self.assertError(put("r1", {"district": "west"}, 2), 403, "forbidden")   # field not granted
        self.assertError(put("r2", {"name": "x"}), 404, "not_found")              # outside the rows
        self.assertError(put("r1", {"name": "late"}, 1), 409, "conflict")         # stale version
        s, r = self.d.req("GET", "/v1/datasets/d2/records/r1", token=self.owner)
        self.assertEqual((r["data"]["name"], r["data"]["id_no"], r["data"]["district"]),
                         ("王五", "11010519491231002X", "east"))
        s, r = self.d.req("GET", "/v1/datasets/d2/records/r1/history", token=self.owner)
        self.assertEqual([v["created_by"] for v in r["versions"]], ["owner_a", "iprange"])
        # Without the grant's update action, an analyst cannot write.
        self.assertError(self.d.req("PUT", "/v1/datasets/d2/records/r1",
                                    {"version": 2, "data": {"name": "y"}}, self.tok["analyst_a"]),
                         403, "forbidden")
        s, r = self.d.req("POST", "/v1/grants", {
            "dataset": "d1", "subject": {"type": "account", "name": "analyst_a"},
            "actions": ["delete"], "purposes": ["x"], "valid_until": "2099-01-01", "reason": "r"},
            self.sec)
        self.assertError((s, r), 400, "invalid_request")


if __name__ == "__main__":
    unittest.main()
