"""The data catalog: registration by a data owner, the grade suggested from the schema,
department-limited visibility, and the grading workflow (secadmin confirms or raises;
lowering needs the data owner and secadmin both), every step audited."""
import unittest

from gvtest import DaemonTest

POPULATION = {"fields": [
    {"name": "id_no", "type": "string", "kind": "resident_id", "required": True, "indexed": True},
    {"name": "name", "type": "string", "kind": "name"},
    {"name": "born", "type": "date"}]}
PRICES = {"fields": [{"name": "item", "type": "string"}, {"name": "price", "type": "number"}]}
CONTACTS = {"fields": [{"name": "tel", "type": "string", "kind": "mobile"}]}


class DatasetTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        cls.sec = d.activate_admin("secadmin").token
        cls.aud = d.activate_admin("auditadmin").token
        cls.sys = d.activate_admin("sysadmin").token
        cls.owner, _ = d.user(cls.sec, "olga", roles=("data_owner",))
        cls.analyst, _ = d.user(cls.sec, "alan", roles=("analyst",))
        cls.other, _ = d.user(cls.sec, "hank", roles=("data_owner",), department="Health")
        for name, schema, rows in (("population", POPULATION, 1000), ("prices", PRICES, 10),
                                   ("contacts", CONTACTS, 10)):
            s, r = cls.register(name, schema, rows)
            assert s == 201, (s, r)

    @classmethod
    def register(cls, name, schema, rows=10, token=None):
        return cls.d.req("POST", "/v1/datasets", {
            "name": name, "title": name.title(), "category": "statistics",
            "description": "test data", "legal_basis": "Statistics Law Art. 7",
            "retention_days": 3650, "expected_rows": rows, "schema": schema}, token or cls.owner)

    def get(self, name, token):
        return self.d.req("GET", "/v1/datasets/" + name, token=token)

    def grade(self, name, grade, token, reason="assessed"):
        return self.d.req("POST", "/v1/datasets/%s/grade" % name, {"grade": grade, "reason": reason}, token)

    def test_suggested_grades(self):
        s, r = self.get("population", self.owner)
        self.assertEqual((s, r["grade_suggested"], r["department"], r["owner"]), (200, 3, "Statistics", "olga"))
        self.assertIn("important", r["grade_reason"])
        self.assertTrue(r["schema"]["fields"][0]["sensitive"])
        self.assertEqual(self.get("prices", self.owner)[1]["grade_suggested"], 1)
        self.assertEqual(self.get("contacts", self.owner)[1]["grade_suggested"], 2)

    def test_visibility_is_the_department(self):
        self.assertEqual(self.get("population", self.analyst)[0], 200)
        self.assertError(self.get("population", self.other), 404, "not_found")
        s, r = self.d.req("GET", "/v1/datasets", token=self.other)
        self.assertEqual((s, r["datasets"]), (200, []))
        s, r = self.d.req("GET", "/v1/datasets", token=self.sec)
        self.assertGreaterEqual(len(r["datasets"]), 3)
        for tok in (self.sys, self.aud):
            self.assertError(self.d.req("GET", "/v1/datasets", token=tok), 403, "forbidden")
        # Only data owners register.
        self.assertError(self.register("x1", PRICES, token=self.analyst), 403, "forbidden")
        self.assertError(self.register("x2", PRICES, token=self.sec), 403, "forbidden")

    def test_bad_registrations(self):
        self.assertError(self.register("Bad Name", PRICES), 400, "invalid_request")
        self.assertError(self.register("prices", PRICES), 409, "conflict")
        s, r = self.register("x3", {"fields": [{"name": "a", "type": "string", "colour": 1}]})
        self.assertEqual(s, 400)
        self.assertIn("colour", r["error"]["message"])
        self.assertError(self.register("x4", {"fields": []}), 400, "invalid_request")
        s, r = self.d.req("POST", "/v1/datasets", {"name": "x5"}, self.owner)
        self.assertEqual(s, 400)

    def test_grading_workflow(self):
        # Lowering before secadmin confirmed anything: refused.
        self.assertError(self.grade("contacts", 1, self.owner), 409, "invalid_state")
        # secadmin overrides the suggestion (2) with 3.
        s, r = self.grade("contacts", 3, self.sec, "contact data of minors")
        self.assertEqual((s, r["grade"], r["grade_confirmed"]), (200, 3, True), r)
        # A data owner cannot raise.
        self.assertError(self.grade("prices", 2, self.owner), 403, "forbidden")
        # Lowering 3 -> 2: secadmin asks, the grade stays until the owner agrees.
        s, r = self.grade("contacts", 2, self.sec, "minors removed")
        self.assertEqual((s, r["grade"], r["pending_grade"]), (200, 3, 2), r)
        s, r = self.grade("contacts", 2, self.owner, "agreed")
        self.assertEqual((s, r["grade"], r["pending_grade"]), (200, 2, None), r)
        # The other order: the owner asks first, secadmin completes.
        s, r = self.grade("population", 3, self.sec, "confirmed")
        self.assertEqual(r["grade"], 3)
        s, r = self.grade("population", 2, self.owner, "pseudonymised ids")
        self.assertEqual((r["grade"], r["pending_grade"]), (3, 2))
        s, r = self.grade("population", 2, self.owner, "again")   # the same person twice
        self.assertEqual((r["grade"], r["pending_grade"]), (3, 2))
        s, r = self.grade("population", 2, self.sec, "agreed")
        self.assertEqual((s, r["grade"]), (200, 2))
        # Another department's owner cannot even see it.
        self.assertError(self.grade("population", 1, self.other), 404, "not_found")
        self.assertError(self.d.req("POST", "/v1/datasets/population/grade", {"grade": 4, "reason": "x"},
                                    self.sec), 400, "invalid_request")
        recs, _ = self.d.audit(self.aud, object="dataset:")
        actions = {x["action"] for x in recs}
        for a in ("dataset.registered", "dataset.grade_overridden", "dataset.grade_confirmed",
                  "dataset.grade_lowering_requested", "dataset.grade_lowered"):
            self.assertIn(a, actions)


if __name__ == "__main__":
    unittest.main()
