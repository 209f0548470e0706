"""Key rotation (issue 4): a data-key rotation re-seals every record version and raw row
in the background and retires the old version once nothing uses it, with reads working
throughout; a master-key rotation rewraps the dataset keys, keeps sessions, TOTP and
recovery codes valid, survives a restart, and a start with the wrong key file is
refused."""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
import unittest

from gvtest import DAEMON, DaemonTest

SCHEMA = {"fields": [
    {"name": "id_no", "type": "string", "kind": "resident_id", "indexed": True},
    {"name": "name", "type": "string", "kind": "name"},
    {"name": "note", "type": "string"}]}
IDS = ["11010519491231002X", "110105194912310056", "110105194912310072"]


class KeysTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        cls.secadmin = d.activate_admin("secadmin")
        cls.sec = cls.secadmin.token
        cls.aud = d.activate_admin("auditadmin").token
        otp = d.new_user(cls.sec, "olga", roles=("data_owner",), clearance=3)
        cls.owner, _ = d.activate_user("olga", otp, expect_stage="totp_enroll")
        d.enroll(cls.owner)   # grade-3 clearance needs a second factor
        for name, grade in (("people", 2), ("secret", 3)):
            s, r = d.req("POST", "/v1/datasets", {
                "name": name, "title": name, "category": "population", "legal_basis": "law",
                "retention_days": 3650, "expected_rows": 10, "schema": SCHEMA}, cls.owner)
            assert s == 201, (s, r)
            s, r = d.req("POST", "/v1/datasets/%s/grade" % name, {"grade": grade, "reason": "x"}, cls.sec)
            assert s == 200, (s, r)

    def put(self, ds, i, note="v1", version=None):
        body = {"data": {"id_no": IDS[i], "name": "Name %d" % i, "note": note}}
        if version is None:
            body["id"] = "r%d" % i
            return self.d.req("POST", "/v1/datasets/%s/records" % ds, body, self.owner)
        body["version"] = version
        return self.d.req("PUT", "/v1/datasets/%s/records/r%d" % (ds, i), body, self.owner)

    def keys(self, ds):
        s, r = self.d.req("GET", "/v1/datasets/%s/keys" % ds, token=self.sec)
        self.assertEqual(s, 200, r)
        return r

    def db_key_versions(self, ds):
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        try:
            return db.execute("SELECT r.key_version, count(*) FROM records r JOIN datasets d ON "
                              "d.id = r.dataset_id WHERE d.name = ? GROUP BY 1", (ds,)).fetchall()
        finally:
            db.close()

    def test_1_data_key_rotation_round_trip(self):
        for ds in ("people", "secret"):
            for i in range(3):
                self.assertEqual(self.put(ds, i)[0], 201)
            self.assertEqual(self.put(ds, 0, "v2", version=1)[0], 200)
        s, b = self.d.raw("POST", "/v1/datasets/people/batches?source=t",
                          ("id_no,name\n%s,Imported\n" % "110105194912310099").encode(),
                          {"Authorization": "Bearer " + self.owner, "Content-Type": "text/csv"})[0:3:2]
        self.assertEqual(s, 201, b)
        before = {ds: self.db_key_versions(ds) for ds in ("people", "secret")}
        self.assertEqual(before["people"], [(1, 5)])
        # Only secadmin rotates.
        self.assertError(self.d.req("POST", "/v1/datasets/people/keys/rotate", None, self.owner), 403, "forbidden")
        for ds in ("people", "secret"):
            s, r = self.d.req("POST", "/v1/datasets/%s/keys/rotate" % ds, None, self.sec)
            self.assertEqual((s, r["version"]), (202, 2), r)
        # New writes use version 2 at once; reads work throughout.
        self.assertEqual(self.put("people", 1, "after", version=1)[0], 200)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            k = [self.keys(ds) for ds in ("people", "secret")]
            if all(len(x["versions"]) == 1 for x in k):
                break
            s, r = self.d.req("GET", "/v1/datasets/people/records/r0", token=self.owner)
            self.assertEqual((s, r["data"]["note"]), (200, "v2"), r)
            time.sleep(0.2)
        for x in k:
            self.assertEqual((x["current"], [v["version"] for v in x["versions"]]), (2, [2]), x)
        self.assertEqual(self.db_key_versions("people"), [(2, 6)])
        self.assertEqual(self.db_key_versions("secret"), [(2, 4)])
        # Every version and the raw rows still open, with the right content.
        for ds in ("people", "secret"):
            s, r = self.d.req("GET", "/v1/datasets/%s/records/r0/history" % ds, token=self.owner)
            self.assertEqual([v["data"]["note"] for v in r["versions"]], ["v1", "v2"])
        s, r = self.d.req("GET", "/v1/datasets/people/search?field=id_no&value=110105194912310099",
                          token=self.owner)
        rid = r["records"][0]["id"]
        s, r = self.d.req("GET", "/v1/datasets/people/records/%s/source" % rid, token=self.owner)
        self.assertEqual((s, r["row"]["raw"]), (200, "110105194912310099,Imported"), r)
        # The old wrapped key is gone from the database, and the steps are audited.
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        self.assertEqual(db.execute("SELECT count(*) FROM data_keys WHERE kind = 0 AND version = 1")
                         .fetchone()[0], 0)
        db.close()
        self.assertEqual(len(self.d.audit(self.aud, action="key.rotated")[0]), 2)
        self.assertEqual(len(self.d.audit(self.aud, action="key.retired")[0]), 2)
        # A dataset that has no key yet cannot be rotated.
        s, r = self.d.req("POST", "/v1/datasets", {
            "name": "empty", "title": "e", "category": "c", "legal_basis": "l",
            "retention_days": 1, "schema": SCHEMA}, self.owner)
        self.assertError(self.d.req("POST", "/v1/datasets/empty/keys/rotate", None, self.sec), 409, "invalid_state")

    def test_1b_rotation_reseals_at_the_stronger_format(self):
        """A rotation after a grade change re-seals every version in the new grade's format,
        and never in a weaker one than it was stored in."""
        s, r = self.d.req("POST", "/v1/datasets", {
            "name": "shifting", "title": "s", "category": "c", "legal_basis": "l",
            "retention_days": 1, "expected_rows": 1,
            "schema": {"fields": [{"name": "note", "type": "string", "kind": "name"}]}}, self.owner)
        self.assertEqual(s, 201, r)
        for grade, reason in ((1, "public after review"),):
            self.assertEqual(self.d.req("POST", "/v1/datasets/shifting/grade",
                                        {"grade": grade, "reason": reason}, self.sec)[0], 200)
        self.assertEqual(self.d.req("POST", "/v1/datasets/shifting/records",
                                    {"id": "a", "data": {"note": "SECRETVALUE"}}, self.owner)[0], 201)

        def stored():
            db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
            try:
                return db.execute("SELECT r.body FROM records r JOIN datasets d ON d.id = r.dataset_id "
                                  "WHERE d.name = 'shifting'").fetchone()[0]
            finally:
                db.close()

        def rotate_and_wait():
            s, r = self.d.req("POST", "/v1/datasets/shifting/keys/rotate", None, self.sec)
            self.assertEqual(s, 202, r)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(self.keys("shifting")["versions"]) > 1:
                time.sleep(0.2)
            self.assertEqual(len(self.keys("shifting")["versions"]), 1)

        self.assertIn(b"SECRETVALUE", stored())          # grade 1: clear
        self.assertEqual(self.d.req("POST", "/v1/datasets/shifting/grade",
                                    {"grade": 3, "reason": "re-assessed"}, self.sec)[0], 200)
        rotate_and_wait()
        body = stored()
        self.assertEqual(body[:1], b"R")                 # grade 3: sealed whole
        self.assertNotIn(b"SECRETVALUE", body)
        # Lowering needs both people; a rotation afterwards keeps the stronger format.
        self.assertEqual(self.d.req("POST", "/v1/datasets/shifting/grade",
                                    {"grade": 1, "reason": "declassified"}, self.sec)[0], 200)
        self.assertEqual(self.d.req("POST", "/v1/datasets/shifting/grade",
                                    {"grade": 1, "reason": "declassified"}, self.owner)[0], 200)
        rotate_and_wait()
        self.assertEqual(stored()[:1], b"R")
        s, r = self.d.req("GET", "/v1/datasets/shifting/records/a", token=self.owner)
        self.assertEqual((s, r["data"]["note"]), (200, "SECRETVALUE"), r)

    def test_2_master_key_rotation(self):
        key_file = os.path.join(self.d.data, "keys", "server.key")
        old = open(key_file).read()
        old_copy = os.path.join(self.d.dir, "old.key")
        shutil.copy(key_file, old_copy)
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        wrapped_before = db.execute("SELECT dataset_id, kind, version, wrapped FROM data_keys "
                                    "ORDER BY 1, 2, 3").fetchall()
        db.close()
        self.assertError(self.d.req("POST", "/v1/system/keys/rotate-master", None, self.owner), 403, "forbidden")
        s, r = self.d.req("POST", "/v1/system/keys/rotate-master", None, self.sec)
        self.assertEqual(s, 200, r)
        self.assertEqual(r["data_keys"], len(wrapped_before))
        new = open(key_file).read()
        self.assertNotEqual(old, new)
        self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(key_file + ".next"))
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        wrapped_after = db.execute("SELECT dataset_id, kind, version, wrapped FROM data_keys "
                                   "ORDER BY 1, 2, 3").fetchall()
        db.close()
        self.assertEqual([w[:3] for w in wrapped_after], [w[:3] for w in wrapped_before])
        for a, b in zip(wrapped_before, wrapped_after):
            self.assertNotEqual(a[3], b[3])
        # Records read as before, sessions live on, before and after a restart.
        s, r = self.d.req("GET", "/v1/datasets/secret/records/r2", token=self.owner)
        self.assertEqual((s, r["data"]["id_no"]), (200, IDS[2]))
        self.d.terminate()
        self.d.start()
        s, r = self.d.req("GET", "/v1/datasets/secret/records/r2", token=self.owner)
        self.assertEqual((s, r["data"]["name"]), (200, "Name 2"), r)
        # TOTP secrets and recovery codes (sealed and hashed under service keys) work.
        self.d.admin_login(self.secadmin, use_code=True)
        self.d.admin_login(self.secadmin, use_code=False)
        self.assertEqual(len(self.d.audit(self.aud, action="key.master_rotated")[0]), 1)
        # The old key file no longer opens this database: the daemon refuses to start.
        self.d.terminate()
        shutil.copy(old_copy, key_file)
        os.chmod(key_file, 0o600)
        r = subprocess.run([DAEMON, "--config", self.d.conf, "--foreground"], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("does not belong to this database", r.stderr)
        # An interrupted rotation (committed, file not yet renamed) completes at start.
        with open(key_file + ".next", "w") as f:
            f.write(new)
        os.chmod(key_file + ".next", 0o600)
        self.d.start()
        self.assertEqual(open(key_file).read(), new)
        self.assertFalse(os.path.exists(key_file + ".next"))
        self.assertEqual(len(self.d.audit(self.aud, action="key.master_rotation_completed")[0]), 1)
        # While a .next file is unsettled (it may be the only copy of the key in use),
        # another rotation is refused.
        with open(key_file + ".next", "w") as f:
            f.write(new)
        self.assertError(self.d.req("POST", "/v1/system/keys/rotate-master", None, self.sec),
                         409, "invalid_state")
        os.unlink(key_file + ".next")
        s, r = self.d.req("GET", "/v1/datasets/people/records/r1", token=self.owner)
        self.assertEqual((s, r["data"]["note"]), (200, "after"), r)


if __name__ == "__main__":
    unittest.main()
