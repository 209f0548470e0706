"""Sharing and opening workflow and governed data services (issue 6): the life of a
request for each grade (allowed and refused paths), narrowing, return and amendment,
rejection, revocation and expiry; consumers calling services with good and bad
credentials, parameters, addresses and rates; the per-call audit, the call report and
the public open catalogue."""
import base64
import datetime
import threading
import time
import urllib.parse

from gvtest import DaemonTest
from test_device import make_cert

SCHEMA = {"fields": [
    {"name": "id_no", "type": "string", "kind": "resident_id", "indexed": True},
    {"name": "name", "type": "string", "kind": "name"},
    {"name": "district", "type": "string", "indexed": True},
    {"name": "age", "type": "integer"}]}
ROWS = {"r1": {"id_no": "11010519491231002X", "name": "张三", "district": "east", "age": 76},
        "r2": {"id_no": "110105194912310056", "name": "李四", "district": "west", "age": 41}}
ID1 = ROWS["r1"]["id_no"]
PARAMS = [{"name": "id_no", "required": True, "max_length": 18, "pattern": "[0-9]{17}[0-9X]"},
          {"name": "district", "max_length": 16}]


FAR = (datetime.datetime.utcnow() + datetime.timedelta(days=700)).strftime("%Y-%m-%d")
NEAR = (datetime.datetime.utcnow() + datetime.timedelta(days=600)).strftime("%Y-%m-%d")


def until(seconds):
    t = datetime.datetime.utcnow() + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class SharingTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        d.purpose = None
        cls.sec = d.activate_admin("secadmin").token
        cls.aud = d.activate_admin("auditadmin").token
        cls.tok = {}
        for name, role, dept, clearance in (
                ("owner_a", "data_owner", "Statistics", 3), ("analyst_a", "analyst", "Statistics", 2),
                ("analyst_b", "analyst", "Health", 3), ("owner_b", "data_owner", "Health", 2),
                ("analyst_c", "analyst", "Transport", 2), ("analyst_e", "analyst", "Education", 2)):
            cls.tok[name] = d.member(cls.sec, name, role, dept, clearance)
        for grade in (1, 2, 3):
            d.dataset(cls.tok["owner_a"], cls.sec, "s%d" % grade, grade, SCHEMA, ROWS,
                      title="Residents %d" % grade, description="residents of the city")

    # -- helpers ------------------------------------------------------------------
    def ask(self, who, dataset, kind="share", service=None, **kw):
        body = {"kind": kind, "dataset": dataset, "purpose": "benefit checks",
                "legal_basis": "Social Assistance Measures Art. 12", "valid_until": FAR,
                "expected_rows_per_day": 1000, "comment": "please"}
        if service:
            body["service"] = service
        body.update(kw)
        return self.d.req("POST", "/v1/share-requests", body, self.tok.get(who, who))

    def step(self, who, rid, step, **body):
        return self.d.req("POST", "/v1/share-requests/%d/%s" % (rid, step), body or None,
                          self.tok.get(who, who))

    def authorise(self, dataset, *depts):
        s, r = self.d.req("PUT", "/v1/datasets/%s/share-departments" % dataset,
                          {"departments": list(depts), "reason": "receives it by law"}, self.sec)
        self.assertEqual(s, 200, r)
        return r

    def service(self, name, **kw):
        svc = {"name": name, "params": PARAMS, "max_rows_per_call": 5, "rate_limit_per_minute": 600}
        svc.update(kw)
        return svc

    def consumer(self, dept, services, ip=("127.0.0.1/32",)):
        s, r = self.d.req("POST", "/v1/consumers", {"name": "app of " + dept, "department": dept,
                                                   "ip_allowlist": list(ip), "services": services},
                          self.sec)
        self.assertEqual(s, 201, r)
        self.assertRegex(r["client_id"], "^gvc_[0-9a-f]{16}$")
        self.assertEqual(len(r["client_secret"]), 64)
        return r["client_id"], r["client_secret"]

    def call(self, cred, name, query, version="latest", basic=False):
        path = "/v1/services/%s/%s/call?%s" % (name, version, query if isinstance(query, str)
                                               else urllib.parse.urlencode(query))
        if basic:
            h = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % cred).encode()).decode()}
        else:
            h = {"X-Client-Id": cred[0], "X-Client-Secret": cred[1]}
        s, r, rh = self.d.call("GET", path, headers=h)
        return s, r, rh

    def approved(self, who, dataset, approvers, service=None, **kw):
        s, r = self.ask(who, dataset, service=service, **kw)
        self.assertEqual(s, 201, r)
        for a in approvers:
            s, r = self.step(a, r["id"], "approve", comment="ok")
            self.assertEqual(s, 200, r)
        self.assertEqual(r["state"], "approved", r)
        return r

    # -- grade rules ----------------------------------------------------------------
    def test_1_grade1_share_one_review(self):
        d = self.d
        s, r = self.ask("analyst_c", "s1", service=self.service("s1-lookup"))
        self.assertEqual(s, 201, r)
        self.assertEqual(r["state"], "pending")
        self.assertIsNotNone(r["approvals"]["data_owner"])
        self.assertIsNone(r["approvals"]["secadmin"])      # grade 1: one review
        rid = r["id"]
        # Not the requester, not secadmin (no review of theirs is due), not another owner.
        self.assertError(self.step("analyst_c", rid, "approve"), 403, "forbidden")
        self.assertError(self.step(self.sec, rid, "approve"), 403, "forbidden")
        self.assertError(self.step("owner_b", rid, "approve"), 404, "not_found")
        # Before approval the department has no access.
        d.purpose = "benefit checks"
        self.assertEqual(d.req("GET", "/v1/datasets/s1/records/r1", token=self.tok["analyst_c"])[0], 404)
        s, r = self.step("owner_a", rid, "approve", comment="fine")
        self.assertEqual(s, 200, r)
        self.assertEqual(r["state"], "approved")
        self.assertEqual(r["data_service"], {"name": "s1-lookup", "version": 1})
        self.assertEqual([e["step"] for e in r["events"]], ["created", "approved"])
        g = d.req("GET", "/v1/grants/%d" % r["grant"], token=self.sec)[1]
        self.assertEqual(g["subject"], {"type": "department", "name": "Transport"})
        self.assertEqual(g["purposes"], ["benefit checks"])
        self.assertEqual(g["max_rows_per_day"], 1000)
        self.assertEqual(g["valid_until"], FAR + "T00:00:00Z")
        s, rec = d.req("GET", "/v1/datasets/s1/records/r1", token=self.tok["analyst_c"])
        self.assertEqual(s, 200, rec)
        # Another purpose than the approved one is refused.
        d.purpose = "marketing"
        self.assertEqual(d.req("GET", "/v1/datasets/s1/records/r1", token=self.tok["analyst_c"])[0], 403)
        d.purpose = None
        # Approved once: no second approval.
        self.assertError(self.step("owner_a", rid, "approve"), 409, "invalid_state")

    def test_2_grade2_only_authorised_departments(self):
        d = self.d
        s, r = self.ask("analyst_e", "s2")
        self.assertError((s, r), 403, "forbidden")
        self.assertIn("authorised", r["error"]["message"])
        self.assertEqual(self.authorise("s2", "Education")["departments"], ["Education"])
        # The owner's own department is never "shared with".
        s, r = d.req("PUT", "/v1/datasets/s2/share-departments",
                     {"departments": ["Statistics"], "reason": "x"}, self.sec)
        self.assertError((s, r), 400, "invalid_request")
        # Grade 2 services need a required exact-match key.
        loose = self.service("s2-loose", params=[{"name": "district"}])
        self.assertError(self.ask("analyst_e", "s2", service=loose), 400, "invalid_request")
        s, r = self.ask("analyst_e", "s2", fields=["id_no", "name", "district"],
                        service=self.service("s2-lookup", fields=["name", "district"]))
        self.assertEqual(s, 201, r)
        self.assertIsNone(r["approvals"]["secadmin"])
        rid = r["id"]
        # Narrowing: only narrower is accepted, and it is recorded.
        self.assertError(self.step("owner_a", rid, "approve", narrow={"fields": ["age"]}), 400,
                         "invalid_request")
        self.assertError(self.step("owner_a", rid, "approve", narrow={"expected_rows_per_day": 5000}),
                         400, "invalid_request")
        s, r = self.step("owner_a", rid, "approve", comment="less",
                         narrow={"fields": ["id_no", "district"], "expected_rows_per_day": 10,
                                 "max_rows_per_call": 2, "valid_until": NEAR})
        self.assertEqual(s, 200, r)
        self.assertEqual(r["state"], "approved")
        self.assertEqual(r["fields"], ["id_no", "district"])
        self.assertEqual(r["expected_rows_per_day"], 10)
        self.assertEqual(r["valid_until"], NEAR + "T00:00:00Z")
        self.assertEqual(r["service"]["fields"], ["district"])
        self.assertEqual(r["service"]["max_rows_per_call"], 2)
        self.assertEqual(r["events"][-1]["step"], "narrowed")
        self.assertIn("fields=id_no,district", r["events"][-1]["narrowed"])
        d.purpose = "benefit checks"
        s, rec = d.req("GET", "/v1/datasets/s2/records/r1", token=self.tok["analyst_e"])
        d.purpose = None
        self.assertEqual(s, 200, rec)
        self.assertEqual(set(rec["data"]), {"id_no", "district"})
        self.assertNotEqual(rec["data"]["id_no"], ID1)       # masked by the grade-2 default

    def test_3_grade3_owner_and_secadmin(self):
        s, r = self.ask("analyst_b", "s3")
        self.assertError((s, r), 403, "forbidden")
        self.authorise("s3", "Health")
        s, r = self.ask("analyst_b", "s3", service=self.service("s3-lookup"))
        self.assertEqual(s, 201, r)
        rid = r["id"]
        self.assertIsNotNone(r["approvals"]["secadmin"])
        s, r = self.step("owner_a", rid, "approve", comment="owner ok")
        self.assertEqual((s, r["state"]), (200, "pending"), r)
        self.assertEqual(r["approvals"]["data_owner"]["by"], "owner_a")
        self.assertError(self.step("owner_a", rid, "approve"), 403, "forbidden")  # not twice
        s, r = self.step(self.sec, rid, "approve", comment="sec ok")
        self.assertEqual((s, r["state"]), (200, "approved"), r)
        g = self.d.req("GET", "/v1/grants/%d" % r["grant"], token=self.sec)[1]
        self.assertEqual(g["state"], "active")
        self.assertEqual(g["approved_by"], "owner_a")
        # Grade 3 (and 2) is never opened.
        for ds in ("s2", "s3"):
            s, r = self.ask("owner_a", ds, kind="open")
            self.assertError((s, r), 403, "forbidden")
            self.assertIn("never opened", r["error"]["message"])

    def test_4_return_amend_reject_withdraw(self):
        s, r = self.ask("analyst_c", "s1", fields=["name"])
        rid = r["id"]
        self.assertError(self.step("owner_a", rid, "return"), 400, "invalid_request")  # no comment
        s, r = self.step("owner_a", rid, "return", comment="name the legal article")
        self.assertEqual((s, r["state"]), (200, "returned"), r)
        self.assertError(self.step("owner_a", rid, "approve"), 409, "invalid_state")
        body = {"kind": "share", "dataset": "s1", "purpose": "benefit checks", "fields": ["name"],
                "legal_basis": "Measures Art. 12(3)", "valid_until": FAR,
                "expected_rows_per_day": 10, "comment": "article named"}
        self.assertEqual(self.d.req("PUT", "/v1/share-requests/%d" % rid, body,
                                    self.tok["analyst_e"])[0], 403)
        s, r = self.d.req("PUT", "/v1/share-requests/%d" % rid, body, self.tok["analyst_c"])
        self.assertEqual((s, r["state"]), (200, "pending"), r)
        self.assertEqual(r["legal_basis"], "Measures Art. 12(3)")
        s, r = self.step("owner_a", rid, "reject", comment="no need shown")
        self.assertEqual((s, r["state"]), (200, "rejected"), r)
        self.assertEqual([e["step"] for e in r["events"]], ["created", "returned", "amended", "rejected"])
        self.assertEqual(r["events"][1]["comment"], "name the legal article")
        self.assertIsNone(r["grant"])
        s, r = self.ask("analyst_c", "s1")
        s, r = self.step("analyst_c", r["id"], "withdraw", comment="not needed")
        self.assertEqual((s, r["state"]), (200, "withdrawn"), r)
        # Bad input loses nothing and says why.
        self.assertError(self.ask("analyst_c", "nope"), 404, "not_found")
        self.assertError(self.ask("analyst_c", "s1", fields=["salary"]), 400, "invalid_request")
        self.assertError(self.ask("analyst_c", "s1", valid_until="2020-01-01"), 400, "invalid_request")
        self.assertError(self.ask("analyst_a", "s1"), 400, "invalid_request")   # own department
        self.assertError(self.ask("analyst_c", "s1", service={"name": "x"}), 400, "invalid_request")
        self.assertError(self.ask("analyst_c", "s1", actions=["update"]), 400, "invalid_request")
        # Visibility: another department sees nothing of it.
        self.assertEqual(self.d.req("GET", "/v1/share-requests/%d" % rid, token=self.tok["analyst_b"])[0],
                         404)
        mine = self.d.req("GET", "/v1/share-requests", token=self.tok["analyst_b"])[1]["requests"]
        self.assertTrue(all(q["department"] == "Health" for q in mine), mine)

    # -- opening ---------------------------------------------------------------------
    def test_5_open_catalogue(self):
        s, r = self.d.req("GET", "/v1/open/catalogue")
        self.assertEqual(s, 200, r)
        self.assertEqual(r["datasets"], [])
        self.assertError(self.ask("analyst_a", "s1", kind="open"), 403, "forbidden")  # owner only
        s, r = self.ask("owner_a", "s1", kind="open", fields=["district", "age"],
                        service=self.service("s1-open", params=[{"name": "district", "required": True}]))
        self.assertEqual(s, 201, r)
        self.assertEqual((r["approvals"]["data_owner"], r["approvals"]["secadmin"]["by"]), (None, None))
        self.assertError(self.step("owner_a", r["id"], "approve"), 403, "forbidden")  # own request
        s, r = self.step(self.sec, r["id"], "approve", comment="publish")
        self.assertEqual((s, r["state"]), (200, "approved"), r)
        self.assertIsNone(r["grant"])
        s, r = self.d.req("GET", "/v1/open/catalogue")
        self.assertEqual(s, 200, r)
        [entry] = r["datasets"]
        self.assertEqual((entry["dataset"], entry["grade"]), ("s1", 1))
        self.assertEqual([f["name"] for f in entry["fields"]], ["district", "age"])
        self.assertEqual([x["name"] for x in entry["services"]], ["s1-open"])
        text = str(r)
        for secret in ("张三", ID1, "owner_a", "benefit"):
            self.assertNotIn(secret, text)
        # Any consumer may call an open service it is bound to.
        cred = self.consumer("Education", ["s1-open"])
        s, r, _ = self.call(cred, "s1-open", {"district": "east"})
        self.assertEqual(s, 200, r)
        self.assertEqual([x["data"] for x in r["records"]], [{"district": "east", "age": 76}])

    # -- service calls ---------------------------------------------------------------
    def test_6_service_calls_refused_and_audited(self):
        self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-calls"))
        cred = self.consumer("Transport", ["s1-calls"])
        s, r, _ = self.call(cred, "s1-calls", {"id_no": ID1})
        self.assertEqual(s, 200, r)
        self.assertEqual((r["count"], r["records"][0]["id"]), (1, "r1"))
        self.assertEqual(set(r["records"][0]), {"id", "data"})
        s, r, _ = self.call(cred, "s1-calls", {"id_no": ID1, "district": "west"}, version="1", basic=True)
        self.assertEqual((s, r["count"]), (200, 0), r)
        cases = [
            ({"district": "east"}, "required"),                              # missing mandatory
            ({"id_no": ID1, "limit": "1000"}, "unknown parameter"),          # unknown
            ("id_no=%s&id_no=%s" % (ID1, ID1), "twice"),                     # repeated
            ({"id_no": "' OR 1=1 --"}, "does not match"),                    # injection-looking
            ({"id_no": "1" * 19}, "longer than"),                            # over-long
            ({"id_no": ID1, "district": "x" * 17}, "longer than"),
            ("id_no=%s%%00" % ID1[:15], "does not match"),   # "%00" stays three characters
        ]
        for query, why in cases:
            s, r, _ = self.call(cred, "s1-calls", query)
            self.assertEqual(s, 400, (query, r))
            self.assertEqual(r["error"]["code"], "invalid_request")
            self.assertIn(why, r["error"]["message"], query)
            self.assertNotIn("OR 1=1", r["error"]["message"])
        # Credentials, addresses, binding.
        s, r, rh = self.call((cred[0], "0" * 64), "s1-calls", {"id_no": ID1})
        self.assertEqual((s, r["error"]["code"]), (401, "invalid_credentials"), r)
        self.assertIn("Basic", rh.get("WWW-Authenticate", ""))
        self.assertEqual(self.call(("gvc_" + "0" * 16, cred[1]), "s1-calls", {"id_no": ID1})[0], 401)
        far = self.consumer("Transport", ["s1-calls"], ip=("10.9.0.0/16",))
        s, r, _ = self.call(far, "s1-calls", {"id_no": ID1})
        self.assertEqual((s, r["error"]["code"]), (403, "access_restricted"), r)
        other = self.consumer("Education", [])
        self.assertEqual(self.call(other, "s1-calls", {"id_no": ID1})[0], 404)
        self.assertEqual(self.call(cred, "s1-calls", {"id_no": ID1}, version="7")[0], 404)
        # Binding a consumer to a service its department was not approved for is refused.
        s, r = self.d.req("POST", "/v1/consumers", {"name": "x", "department": "Education",
                                                   "ip_allowlist": ["127.0.0.1"],
                                                   "services": ["s1-calls"]}, self.sec)
        self.assertError((s, r), 400, "invalid_request")
        # The audit: every call, with the consumer, the digests and never the value.
        recs, _ = self.d.audit(self.aud, action="service.call")
        mine = [x for x in recs if x["actor"] == "consumer:" + cred[0]]
        self.assertEqual(len(mine), 2 + len(cases) + 1)   # + no such version
        # A wrong secret is nobody's call: recorded as unauthenticated, the claim in the reason.
        strangers = [x for x in recs if x["actor"] == "consumer:(unauthenticated)"]
        self.assertTrue(any(cred[0] in x["reason"] and x["status"] == 401 for x in strangers),
                        [(x["reason"], x["status"]) for x in strangers])
        ok = [x for x in mine if x["result"] == "permit"]
        self.assertEqual(ok[0]["detail"], "rows=1")
        self.assertEqual(ok[0]["object"], "service:s1-calls/v1")
        self.assertEqual(ok[0]["purpose"], "benefit checks")
        self.assertRegex(ok[0]["params"], "^id_no=[0-9a-f]{64}$")
        denied = [x for x in recs if x["result"] == "deny"]
        self.assertTrue(any(x["actor"] == "consumer:" + far[0] and x["status"] == 403 for x in denied))
        text = str(recs)
        self.assertNotIn(ID1, text)
        self.assertNotIn("OR 1=1", text)
        self.assertNotIn(cred[1], text)

    def test_7_rate_limit(self):
        self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-slow", rate_limit_per_minute=3))
        cred = self.consumer("Transport", ["s1-slow"])
        for _ in range(3):
            self.assertEqual(self.call(cred, "s1-slow", {"id_no": ID1})[0], 200)
        s, r, rh = self.call(cred, "s1-slow", {"id_no": ID1})
        self.assertEqual((s, r["error"]["code"]), (429, "rate_limited"), r)
        self.assertGreaterEqual(int(rh["Retry-After"]), 1)
        self.assertLessEqual(int(rh["Retry-After"]), 20)
        # Another consumer has its own allowance.
        self.assertEqual(self.call(self.consumer("Transport", ["s1-slow"]), "s1-slow", {"id_no": ID1})[0], 200)
        recs, _ = self.d.audit(self.aud, action="service.call", actor="consumer:" + cred[0])
        self.assertEqual([x["status"] for x in recs], [200, 200, 200, 429])
        self.assertEqual(recs[-1]["result"], "deny")

    def test_7b_client_certificate(self):
        """A consumer may present a registered client certificate instead of a secret."""
        cert, key, fp = make_cert(self.d.dir, "app")
        other = make_cert(self.d.dir, "other")
        self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-cert"))
        s, r = self.d.req("POST", "/v1/consumers", {"name": "cert app", "department": "Transport",
                                                   "ip_allowlist": ["127.0.0.1"], "services": ["s1-cert"],
                                                   "cert_fp": fp}, self.sec)
        self.assertEqual(s, 201, r)
        client = r["client_id"]
        path = "/v1/services/s1-cert/latest/call?id_no=" + ID1
        for ctx, hdr, want in ((self.d.context(cert, key), {}, 200),
                               (self.d.context(cert, key), {"X-Client-Id": client}, 200),
                               (self.d.context(*other[:2]), {}, 401),
                               (self.d.context(*other[:2]), {"X-Client-Id": client}, 401),
                               (None, {"X-Client-Id": client}, 401)):
            s, doc, _ = self.d.call("GET", path, headers=hdr, ctx=ctx)
            self.assertEqual(s, want, (hdr, doc))
        recs, _ = self.d.audit(self.aud, action="service.call", actor="consumer:" + client)
        self.assertEqual([x["status"] for x in recs], [200, 200])   # the 401s are nobody's

    def test_8_revocation_ends_grant_and_service(self):
        d = self.d
        r = self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-revoked"))
        cred = self.consumer("Transport", ["s1-revoked"])
        self.assertEqual(self.call(cred, "s1-revoked", {"id_no": ID1})[0], 200)
        self.assertError(self.step("analyst_c", r["id"], "revoke", comment="x"), 403, "forbidden")
        self.assertError(self.step("owner_a", r["id"], "revoke"), 400, "invalid_request")
        s, r = self.step(self.sec, r["id"], "revoke", comment="no longer needed")
        self.assertEqual((s, r["state"]), (200, "revoked"), r)
        self.assertEqual(d.req("GET", "/v1/grants/%d" % r["grant"], token=self.sec)[1]["state"], "revoked")
        s, e, _ = self.call(cred, "s1-revoked", {"id_no": ID1})
        self.assertEqual(s, 403, e)
        self.assertIn("revoked", e["error"]["message"])
        recs, _ = self.d.audit(self.aud, action="service.call", actor="consumer:" + cred[0])
        self.assertEqual([(x["status"], x["result"]) for x in recs], [(200, "permit"), (403, "deny")])
        self.assertIn("revoked", recs[-1]["reason"])
        svc = [x for x in d.req("GET", "/v1/services", token=self.sec)[1]["services"]
               if x["name"] == "s1-revoked"]
        self.assertEqual(svc[0]["state"], "revoked")
        # A change names what changes; the rest stays.
        s, c = d.req("PATCH", "/v1/consumers/" + cred[0], {"name": "renamed"}, self.sec)
        self.assertEqual((s, c["name"], c["services"], c["ip_allowlist"]),
                         (200, "renamed", ["s1-revoked"], ["127.0.0.1/32"]), c)
        s, c = d.req("PATCH", "/v1/consumers/" + cred[0], {"ip_allowlist": []}, self.sec)
        self.assertError((s, c), 400, "invalid_request")
        s, c = d.req("PATCH", "/v1/consumers/" + cred[0], {"services": []}, self.sec)
        self.assertEqual((s, c["services"], c["name"]), (200, [], "renamed"), c)
        # A consumer revoked stops at once (s1-calls is test_6's).
        cred2 = self.consumer("Transport", ["s1-calls"])
        self.assertEqual(self.call(cred2, "s1-calls", {"id_no": ID1})[0], 200)
        self.assertEqual(d.req("POST", "/v1/consumers/%s/revoke" % cred2[0], None, self.sec)[0], 200)
        self.assertEqual(self.call(cred2, "s1-calls", {"id_no": ID1})[0], 401)

    def test_9_expiry_ends_both(self):
        d = self.d
        r = self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-brief"),
                          valid_until=until(6))
        cred = self.consumer("Transport", ["s1-brief"])
        self.assertEqual(self.call(cred, "s1-brief", {"id_no": ID1})[0], 200)
        time.sleep(7)
        s, e, _ = self.call(cred, "s1-brief", {"id_no": ID1})
        self.assertEqual(s, 403, e)
        self.assertIn("expired", e["error"]["message"])
        s, q = d.req("GET", "/v1/share-requests/%d" % r["id"], token=self.tok["analyst_c"])
        self.assertEqual(q["state"], "expired")
        s, rs = d.req("POST", "/v1/policy/explain", {"account": "analyst_c", "dataset": "s1",
                                                     "action": "read", "purpose": "benefit checks"},
                      self.sec)
        self.assertNotEqual(rs["grant"], r["grant"])

    def test_9b_versions_and_edges(self):
        d = self.d
        # A second approval of the same service name for the same department: version 2.
        r1 = self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-v"))
        r2 = self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-v", max_rows_per_call=1))
        self.assertEqual((r1["data_service"]["version"], r2["data_service"]["version"]), (1, 2))
        # Another department cannot take the name.
        self.authorise("s2", "Education", "Transport")
        s, r = self.ask("analyst_c", "s2", service=self.service("s1-v"))
        s, r = self.step("owner_a", r["id"], "approve")
        self.assertError((s, r), 409, "conflict")
        cred = self.consumer("Transport", ["s1-v"])
        self.assertEqual(self.call(cred, "s1-v", {"id_no": ID1})[1]["version"], 2)
        # latest is the highest version still active.
        self.assertEqual(self.step(self.sec, r2["id"], "revoke", comment="superseded")[0], 200)
        s, r, _ = self.call(cred, "s1-v", {"id_no": ID1})
        self.assertEqual((s, r["version"]), (200, 1), r)
        self.assertEqual(self.call(cred, "s1-v", {"id_no": ID1}, version="2")[0], 403)
        self.assertEqual(self.call(cred, "s1-v", {"id_no": ID1}, version="x")[0], 404)
        recs, _ = d.audit(self.aud, action="service.call", actor="consumer:" + cred[0])
        self.assertEqual(recs[-1]["object"], "service:s1-v/(invalid)")
        # Narrowing to a field the dataset does not have is refused, even when all were asked.
        s, r = self.ask("analyst_c", "s1")
        self.assertError(self.step("owner_a", r["id"], "approve", narrow={"fields": ["salary"]}), 400,
                         "invalid_request")
        # A period that has not begun: the service waits.
        later = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime("%Y-%m-%d")
        self.approved("analyst_c", "s1", ["owner_a"], service=self.service("s1-later"), valid_from=later)
        s, r, _ = self.call(self.consumer("Transport", ["s1-later"]), "s1-later", {"id_no": ID1})
        self.assertEqual(s, 403, r)
        self.assertIn("not yet valid", r["error"]["message"])
        # One certificate, one consumer.
        fp = "ab" * 32
        body = {"name": "c", "department": "Transport", "ip_allowlist": ["127.0.0.1"], "services": [],
                "cert_fp": fp}
        self.assertEqual(d.req("POST", "/v1/consumers", body, self.sec)[0], 201)
        self.assertError(d.req("POST", "/v1/consumers", body, self.sec), 409, "conflict")

    def test_9b2_review_rules(self):
        d = self.d
        # Two reviewers at once: one step wins, the other is told the request changed.
        self.tok["owner_a2"] = d.member(self.sec, "owner_a2", "data_owner", "Statistics", 2)
        s, r = self.ask("analyst_c", "s1", service=self.service("s1-race"))
        rid, results = r["id"], []
        threads = [threading.Thread(target=lambda who: results.append(self.step(who, rid, "approve")[0]),
                                    args=(who,)) for who in ("owner_a", "owner_a2") * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results.count(200), 1, results)
        self.assertEqual(len([x for x in d.req("GET", "/v1/services", token=self.sec)[1]["services"]
                              if x["name"] == "s1-race"]), 1)
        # A narrowing that would leave the service no field to return is refused.
        s, r = self.ask("analyst_c", "s1", fields=["id_no", "name", "district"],
                        service=self.service("s1-empty", fields=["name", "district"]))
        self.assertError(self.step("owner_a", r["id"], "approve", narrow={"fields": ["id_no"]}), 400,
                         "invalid_request")
        # No filter on personal data beside the key: it would test guesses of masked values.
        two = self.service("s1-two", params=PARAMS + [{"name": "name"}])
        self.assertError(self.ask("analyst_c", "s1", service=two), 400, "invalid_request")
        # A service needs the search action, asked for and kept.
        self.assertError(self.ask("analyst_c", "s1", actions=["read"], service=self.service("s1-ro")),
                         400, "invalid_request")
        s, r = self.ask("analyst_c", "s1", service=self.service("s1-ro"))
        self.assertError(self.step("owner_a", r["id"], "approve", narrow={"actions": ["read"]}), 400,
                         "invalid_request")
        # Taking a department with approved shares off the list is refused until they end.
        s, r = d.req("PUT", "/v1/datasets/s3/share-departments", {"departments": [], "reason": "x"},
                     self.sec)
        self.assertError((s, r), 409, "invalid_state")
        self.assertIn("revoke them first", r["error"]["message"])

    def test_9c_open_service_ends_when_grade_rises(self):
        d = self.d
        d.purpose = "service"
        s, r = d.req("POST", "/v1/datasets", {
            "name": "s4", "title": "Roads", "category": "transport", "legal_basis": "x",
            "retention_days": 365, "expected_rows": 2, "schema": SCHEMA}, self.tok["owner_a"])
        self.assertEqual(s, 201, r)
        self.assertEqual(d.req("POST", "/v1/datasets/s4/grade", {"grade": 1, "reason": "x"}, self.sec)[0], 200)
        self.assertEqual(d.req("POST", "/v1/datasets/s4/records", {"id": "r1", "data": ROWS["r1"]},
                               self.tok["owner_a"])[0], 201)
        d.purpose = None
        s, r = self.ask("owner_a", "s4", kind="open",
                        service=self.service("s4-open", params=[{"name": "district", "required": True}]))
        self.assertEqual(self.step(self.sec, r["id"], "approve")[0], 200)
        cred = self.consumer("Education", ["s4-open"])
        self.assertEqual(self.call(cred, "s4-open", {"district": "east"})[0], 200)
        self.assertIn("s4", [x["dataset"] for x in d.req("GET", "/v1/open/catalogue")[1]["datasets"]])
        self.assertEqual(d.req("POST", "/v1/datasets/s4/grade", {"grade": 2, "reason": "ids"}, self.sec)[0],
                         200)
        s, r, _ = self.call(cred, "s4-open", {"district": "east"})
        self.assertEqual(s, 403, r)
        self.assertIn("no longer grade 1", r["error"]["message"])
        self.assertNotIn("s4", [x["dataset"] for x in d.req("GET", "/v1/open/catalogue")[1]["datasets"]])
        # A request made at grade 1 is approved under the grade in force: grade 2 only for
        # authorised departments.
        d.purpose = "service"
        s, r = d.req("POST", "/v1/datasets", {
            "name": "s5", "title": "Bridges", "category": "transport", "legal_basis": "x",
            "retention_days": 365, "expected_rows": 2, "schema": SCHEMA}, self.tok["owner_a"])
        d.purpose = None
        self.assertEqual(d.req("POST", "/v1/datasets/s5/grade", {"grade": 1, "reason": "x"}, self.sec)[0], 200)
        s, r = self.ask("analyst_c", "s5")
        self.assertEqual(s, 201, r)
        rid = r["id"]
        self.assertEqual(d.req("POST", "/v1/datasets/s5/grade", {"grade": 2, "reason": "y"}, self.sec)[0], 200)
        s, r = self.step("owner_a", rid, "approve")
        self.assertError((s, r), 403, "forbidden")
        self.assertIn("authorised", r["error"]["message"])

    def test_zz_report(self):
        cred = self.consumer("Transport", ["s1-calls"])   # test_6's service
        self.assertEqual(self.call(cred, "s1-calls", {"id_no": ID1})[0], 200)
        self.assertEqual(self.call(cred, "s1-calls", {"nope": "1"})[0], 400)
        for tok in (self.sec, self.aud):
            s, r = self.d.req("GET", "/v1/reports/service-calls?consumer=%s" % cred[0], token=tok)
            self.assertEqual(s, 200, r)
            [row] = r["rows"]
            self.assertEqual((row["consumer"], row["service"]), (cred[0], "s1-calls/v1"))
            self.assertEqual((row["calls"], row["rows"], row["refusals"]), (2, 1, 1), row)
            self.assertIsInstance(row["flags"], list)
        s, r = self.d.req("GET", "/v1/reports/service-calls", token=self.sec)
        self.assertGreater(len(r["rows"]), 3)
        self.assertTrue(any(x["refusals"] > 0 for x in r["rows"]))
        self.assertEqual(self.d.req("GET", "/v1/reports/service-calls", token=self.tok["owner_a"])[0], 403)
        self.assertError(self.d.req("GET", "/v1/reports/service-calls?from=yesterday", token=self.sec),
                         400, "invalid_request")
        self.assertHealthy()
