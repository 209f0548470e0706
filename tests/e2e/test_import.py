"""Batch import with provenance and quality (issue 4): streamed CSV and JSON Lines,
SM3 transmission integrity, rows retained as received, quarantine with reasons,
correction and discard, the quality report, record provenance, export digests,
lineage, and a kill -9 during an import leaving the whole batch or nothing."""
import hashlib
import http.client
import json
import os
import signal
import sqlite3
import time
import unittest

from gvtest import DaemonTest

PEOPLE = {"fields": [
    {"name": "id_no", "type": "string", "kind": "resident_id", "required": True, "indexed": True},
    {"name": "name", "type": "string", "kind": "name", "required": True},
    {"name": "mobile", "type": "string", "kind": "mobile"},
    {"name": "district", "type": "string"},
    {"name": "age", "type": "integer"},
    {"name": "note", "type": "string"}]}
RULES = [
    {"field": "id_no", "rule": "checksum", "kind": "resident_id"},
    {"field": "id_no", "rule": "unique"},
    {"field": "mobile", "rule": "pattern", "pattern": "^1[3-9][0-9]{9}$"},
    {"field": "district", "rule": "enum", "values": ["east", "west"]},
    {"field": "age", "rule": "range", "min": 0, "max": 150, "severity": "warning"}]


def resident_id(seq):
    """A valid GB 11643 resident ID (ISO 7064 MOD 11-2 check character)."""
    body = "11010519%02d%02d%02d%03d" % (50 + seq // 10000 % 40, 1 + seq // 100 % 12,
                                          1 + seq % 28, seq % 1000)
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]


def sm3(data):
    return hashlib.new("sm3", data).hexdigest()


class ImportTest(DaemonTest):
    # Values one import remembers for unique rules: small enough to reach here
    # (test_unique_values_bounded), above the 2,000 of test_unique_across_chunks.
    extra = "[data]\nimport_unique_values = 2500\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        cls.sec = d.activate_admin("secadmin").token
        cls.aud = d.activate_admin("auditadmin").token
        cls.owner, _ = d.user(cls.sec, "olga", roles=("data_owner",), clearance=2)
        cls.analyst, _ = d.user(cls.sec, "alan", roles=("analyst",), clearance=2)
        cls.other, _ = d.user(cls.sec, "hank", roles=("data_owner",), department="Health", clearance=2)
        cls.dataset("people", PEOPLE, RULES)

    @classmethod
    def dataset(cls, name, schema, rules=None, grade=2, **extra):
        body = {"name": name, "title": name.title(), "category": "population",
                "legal_basis": "Household Registration Regulations", "retention_days": 3650,
                "expected_rows": 100, "schema": schema}
        if rules is not None:
            body["quality_rules"] = rules
        body.update(extra)
        s, r = cls.d.req("POST", "/v1/datasets", body, cls.owner)
        assert s == 201, (s, r)
        s, r = cls.d.req("POST", "/v1/datasets/%s/grade" % name, {"grade": grade, "reason": "assessed"},
                         cls.sec)
        assert s == 200, (s, r)
        # The department's analysts read through a grant, masked by the grade's default.
        cls.d.grant(cls.sec, name, "analyst")
        return r

    def upload(self, name, data, fmt="csv", source="hukou", digest=True, token=None, extra=""):
        headers = {"Authorization": "Bearer " + (token or self.owner),
                   "Content-Type": "text/csv" if fmt == "csv" else "application/x-ndjson"}
        if digest is True:
            headers["X-Content-SM3"] = sm3(data)
        elif digest:
            headers["X-Content-SM3"] = digest
        s, h, body = self.d.raw("POST", "/v1/datasets/%s/batches?source=%s%s" % (name, source, extra),
                                data, headers)
        return s, json.loads(body)

    def rows(self, name, batch, status=None):
        q = "?status=" + status if status else ""
        s, r = self.d.req("GET", "/v1/datasets/%s/batches/%d/rows%s" % (name, batch, q), token=self.owner)
        self.assertEqual(s, 200, r)
        return r["rows"]

    def search(self, name, value, token=None):
        s, r = self.d.req("GET", "/v1/datasets/%s/search?field=id_no&value=%s" % (name, value),
                          token=token or self.analyst)
        self.assertEqual(s, 200, r)
        return r["records"]

    def test_csv_import_quarantine_and_report(self):
        good = [resident_id(i) for i in range(1, 6)]
        rows = [
            "\ufeffid_no,name,mobile,district,age,note",
            "%s,Zhang San,13800138000,east,34,plain" % good[0],
            '%s,"Li, Si",13900139000,west,200,"two\r\nlines"' % good[1],   # warning: age
            "%s,Wang Wu,12345,east,20,x" % good[2],                     # pattern
            "110105194912310021,Bad Check,13800138001,east,1,x",          # checksum
            "%s,Dup,13800138002,east,5,x" % good[0],                    # unique
            "%s,Ragged,13800138003,east" % good[3],                      # 4 fields
            '%s,Bad "quote",13800138004,east,1,x' % good[4],             # quote in field
            "%s,Zhao Liu,13800138005,north,9,x" % good[4],              # enum
        ]
        data = ("\r\n".join(rows) + "\r\n").encode() + b"\xff\xfe,broken,utf8\r\n"
        s, b = self.upload("people", data)
        self.assertEqual(s, 201, b)
        self.assertEqual((b["state"], b["rows"], b["accepted"], b["flagged"], b["quarantined"]),
                         ("committed", 9, 1, 1, 7), b)
        self.assertEqual((b["sm3"], b["declared_sm3"], b["source"], b["submitted_by"], b["bytes"]),
                         (sm3(data), sm3(data), "hukou", "olga", len(data)))
        rep = b["report"]
        self.assertEqual((rep["parse_errors"], rep["schema_errors"]), (3, 0), rep)
        by_rule = {(x["rule"], x["field"]): x["violated"] for x in rep["rules"]}
        self.assertEqual(by_rule[("checksum", "id_no")], 1)
        self.assertEqual(by_rule[("unique", "id_no")], 1)
        self.assertEqual(by_rule[("pattern", "mobile")], 1)
        self.assertEqual(by_rule[("enum", "district")], 1)
        self.assertEqual(by_rule[("range", "age")], 1)
        # Quarantined rows keep their reasons (never the values) and the row as received.
        q = self.rows("people", b["id"], "quarantined")
        self.assertEqual(len(q), 7)
        reasons = {r["row"]: r["reasons"] for r in q}
        self.assertEqual(reasons[4][0]["rule"], "pattern")
        self.assertEqual(reasons[5][0]["rule"], "checksum")
        self.assertEqual(reasons[6][0]["rule"], "unique")
        self.assertIn("4 fields, the header 6", reasons[7][0]["reason"])
        self.assertEqual(reasons[8][0]["rule"], "parse")
        self.assertEqual(reasons[10][0]["rule"], "parse")
        self.assertIn("UTF-8", reasons[10][0]["reason"])
        for r in q:
            for reason in r["reasons"]:
                self.assertNotIn("12345", reason["reason"])
        self.assertEqual([r for r in q if r["row"] == 4][0]["raw"], "%s,Wang Wu,12345,east,20,x" % good[2])
        self.assertEqual([r for r in q if r["row"] == 10][0]["raw_hex"], "fffe2c62726f6b656e2c75746638")
        # The header is kept as received too (row 1), and the BOM is not part of it.
        first = self.rows("people", b["id"], "accepted")
        self.assertEqual(first[0]["row"], 1)
        self.assertEqual(first[0]["raw"], "id_no,name,mobile,district,age,note")
        # Accepted and flagged rows are records, with their provenance.
        recs = self.search("people", good[1])
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["data"]["note"], "two\r\nlines")
        self.assertEqual(recs[0]["data"]["age"], 200)
        self.assertEqual(recs[0]["source"], {"batch": b["id"], "row": 3})
        s, src = self.d.req("GET", "/v1/datasets/people/records/%s/source" % recs[0]["id"],
                            token=self.analyst)
        self.assertEqual((s, src["row"]["row"], src["batch"]["id"]), (200, 3, b["id"]), src)
        self.assertNotIn("raw", src["row"])   # the unmasked original is the owner's alone
        s, src = self.d.req("GET", "/v1/datasets/people/records/%s/source" % recs[0]["id"],
                            token=self.owner)
        self.assertEqual(src["row"]["raw"], '%s,"Li, Si",13900139000,west,200,"two\r\nlines"' % good[1])
        self.assertEqual(src["batch"]["sm3"], sm3(data))
        # Correction: still failing is refused with the reasons; fixed becomes a record.
        s, r = self.d.req("POST", "/v1/datasets/people/batches/%d/rows/4/correct" % b["id"],
                          {"data": {"id_no": good[2], "name": "Wang Wu", "mobile": "555"}}, self.owner)
        self.assertError((s, r), 400, "invalid_request")
        self.assertIn("pattern", r["error"]["message"])
        self.assertNotIn("555", r["error"]["message"])
        s, r = self.d.req("POST", "/v1/datasets/people/batches/%d/rows/4/correct" % b["id"],
                          {"data": {"id_no": good[2], "name": "Wang Wu", "mobile": "13700137000"}},
                          self.owner)
        self.assertEqual(s, 201, r)
        self.assertEqual(self.search("people", good[2])[0]["source"], {"batch": b["id"], "row": 4})
        s, r = self.d.req("POST", "/v1/datasets/people/batches/%d/rows/4/correct" % b["id"],
                          {"data": {"id_no": good[2], "name": "Again"}}, self.owner)
        self.assertError((s, r), 409, "invalid_state")
        s, r = self.d.req("POST", "/v1/datasets/people/batches/%d/rows/6/discard" % b["id"],
                          {"reason": "duplicate of row 2"}, self.owner)
        self.assertEqual((s, r["status"], r["resolution"], r["resolved_by"]),
                         (200, "discarded", "duplicate of row 2", "olga"), r)
        s, r = self.d.req("GET", "/v1/datasets/people/batches/%d" % b["id"], token=self.sec)
        self.assertEqual((s, r["corrected"], r["discarded"]), (200, 1, 1), r)
        self.assertEqual(len(self.rows("people", b["id"], "quarantined")), 5)
        # Rows as received are the data owner's: not the analyst's, not another department's.
        self.assertError(self.d.req("GET", "/v1/datasets/people/batches/%d/rows" % b["id"],
                                    token=self.analyst), 403, "forbidden")
        self.assertError(self.d.req("GET", "/v1/datasets/people/batches/%d" % b["id"],
                                    token=self.other), 404, "not_found")
        # Every step is in the audit trail, without the values.
        trail, _ = self.d.audit(self.aud, action="batch.import")
        mine = [e for e in trail if e["object"] == "dataset:people/batch:%d" % b["id"]]
        self.assertEqual([(e["result"], e["status"]) for e in mine], [("permit", 201)], trail)
        self.assertIn("7 quarantined", mine[0]["reason"])
        # The commit itself was audited before it happened (fail closed).
        commits = [e for e in self.d.audit(self.aud, action="batch.commit")[0]
                   if e["object"] == "dataset:people/batch:%d" % b["id"]]
        self.assertEqual(len(commits), 1, commits)
        self.assertIn("7 quarantined", commits[0]["reason"])
        # Pages of rows are bounded.
        s, r = self.d.req("GET", "/v1/datasets/people/batches/%d/rows?limit=201" % b["id"], token=self.owner)
        self.assertError((s, r), 400, "invalid_request")
        for action in ("batch.rows", "batch.correct", "batch.discard", "record.source"):
            self.assertTrue(self.d.audit(self.aud, action=action)[0], action)
        blob = json.dumps(self.d.audit(self.aud, object="dataset:people")[0])
        for secret in ("Zhang San", "13800138000", good[0]):
            self.assertNotIn(secret, blob)

    def test_digest_mismatch_rejects_whole_batch(self):
        data = ("id_no,name\n%s,Qian Qi\n" % resident_id(7001)).encode()
        s, r = self.upload("people", data, digest="0" * 64)
        self.assertError((s, r), 422, "integrity_failed")
        batch = int(r["error"]["message"].split()[1])
        s, b = self.d.req("GET", "/v1/datasets/people/batches/%d" % batch, token=self.owner)
        self.assertEqual((b["state"], b["sm3"]), ("rejected", sm3(data)), b)
        self.assertIn("digest", b["state_reason"])
        self.assertEqual(self.search("people", resident_id(7001)), [])
        self.assertEqual(self.rows("people", batch), [])
        # Grade 1 stores bodies in clear: nothing of a rejected batch's stays on disk,
        # neither in the database (secure_delete) nor in its write-ahead log.
        self.dataset("notices", {"fields": [{"name": "text", "type": "string"}]}, grade=1)
        marker = "never-kept-%d" % os.getpid()
        self.assertError(self.upload("notices", ("text\n%s\n" % marker).encode(), digest="0" * 64),
                         422, "integrity_failed")
        for f in ("govvault.db", "govvault.db-wal"):
            p = os.path.join(self.d.data, f)
            if os.path.exists(p):
                with open(p, "rb") as fh:
                    self.assertFalse(marker.encode() in fh.read(), "%s holds the rejected value" % f)
        # The same file with its true digest goes in.
        s, b = self.upload("people", data)
        self.assertEqual((s, b["accepted"]), (201, 1), b)
        self.assertEqual(len(self.search("people", resident_id(7001))), 1)
        # A malformed digest is refused before anything is read.
        self.assertError(self.upload("people", data, digest="xyz"), 400, "invalid_request")

    def test_bad_headers_and_requests(self):
        s, r = self.upload("people", b"id_no,colour\n1,2\n")
        self.assertError((s, r), 400, "invalid_request")
        self.assertIn("not a field", r["error"]["message"])
        s, r = self.upload("people", b"name\nx\n")
        self.assertIn("required field 'id_no'", r["error"]["message"])
        s, r = self.upload("people", b"id_no,name\n")
        self.assertIn("no data rows", r["error"]["message"])
        self.assertError(self.upload("people", b"x", source=""), 400, "invalid_request")
        self.assertError(self.upload("people", b"x", extra="&format=xml"), 400, "invalid_request")
        self.assertError(self.upload("people", b"x", token=self.analyst), 403, "forbidden")
        self.assertError(self.upload("people", b"x", token=self.other), 404, "not_found")
        # A data owner of the department whose clearance is below the grade may not
        # import what it could not read.
        low, _ = self.d.user(self.sec, "lowowner", roles=("data_owner",), clearance=1)
        self.assertError(self.upload("people", b"x", token=low), 403, "forbidden")
        s, _, body = self.d.raw("POST", "/v1/datasets/people/batches?source=x", b"id_no\n1\n",
                                {"Content-Type": "text/csv"})
        self.assertEqual(s, 401)

    def test_jsonl_import(self):
        lines = [json.dumps({"id_no": resident_id(8001), "name": "Sun Ba", "age": 40}),
                 "{not json",
                 json.dumps({"id_no": resident_id(8002), "name": "Zhou", "colour": "red"}),
                 json.dumps([1, 2]),
                 "",
                 json.dumps({"id_no": resident_id(8003), "name": "Wu", "age": "old"})]
        data = "\n".join(lines).encode()
        s, b = self.upload("people", data, fmt="jsonl")
        self.assertEqual(s, 201, b)
        self.assertEqual((b["format"], b["rows"], b["accepted"], b["quarantined"]), ("jsonl", 5, 1, 4), b)
        self.assertEqual((b["report"]["parse_errors"], b["report"]["schema_errors"]), (2, 2))
        q = {r["line"]: r for r in self.rows("people", b["id"], "quarantined")}
        self.assertEqual(sorted(q), [2, 3, 4, 6])
        self.assertIn("colour", q[3]["reasons"][0]["reason"])
        self.assertEqual(q[2]["raw"], "{not json")

    def test_export_digest_and_lineage(self):
        self.dataset("stats", {"fields": [{"name": "district", "type": "string", "indexed": True},
                                          {"name": "people", "type": "integer"}]}, grade=1,
                     lineage={"sources": ["people"], "transformation": "count by district"})
        data = b"district,people\neast,3\nwest,2\n"
        s, b = self.upload("stats", data)
        self.assertEqual((s, b["accepted"]), (201, 2), b)
        s, h, body = self.d.raw("GET", "/v1/datasets/stats/export", None,
                                {"Authorization": "Bearer " + self.analyst, "X-Purpose": "e2e test"})
        self.assertEqual(s, 200, body)
        self.assertEqual(h["X-Content-SM3"], sm3(body))
        self.assertTrue(h["Content-Type"].startswith("application/x-ndjson"))
        got = sorted((json.loads(l)["data"]["district"], json.loads(l)["data"]["people"])
                     for l in body.decode().splitlines())
        self.assertEqual(got, [("east", 3), ("west", 2)])
        s, r = self.d.req("GET", "/v1/datasets/stats/lineage", token=self.analyst)
        self.assertEqual((s, r["sources"]), (200, [{"dataset": "people", "transformation": "count by district"}]))
        s, r = self.d.req("GET", "/v1/datasets/people/lineage", token=self.sec)
        self.assertIn({"dataset": "stats", "transformation": "count by district"}, r["derived"])
        # A source must be a dataset the registrant can see.
        s, r = self.d.req("POST", "/v1/datasets", {
            "name": "bad_lineage", "title": "x", "category": "c", "legal_basis": "b",
            "retention_days": 1, "schema": {"fields": [{"name": "a", "type": "string"}]},
            "lineage": {"sources": ["nope"], "transformation": "t"}}, self.owner)
        self.assertError((s, r), 400, "invalid_request")

    def test_rules_validation(self):
        for rules, text in (([{"field": "name", "rule": "unique"}], "indexed"),
                            ([{"field": "nope", "rule": "required"}], "nope"),
                            ([{"field": "id_no", "rule": "reference", "dataset": "ghost",
                               "ref_field": "x"}], "ghost")):
            s, r = self.d.req("PUT", "/v1/datasets/people/quality-rules", {"rules": rules}, self.owner)
            self.assertError((s, r), 400, "invalid_request")
            self.assertIn(text, r["error"]["message"])
        self.assertError(self.d.req("PUT", "/v1/datasets/people/quality-rules", {"rules": RULES},
                                    self.analyst), 403, "forbidden")

    def test_empty_cells_leave_fields_out(self):
        """An empty CSV cell leaves its field out of that row's record, and a cell's
        value is its own, whatever the rows before held: the import reuses one object,
        and its values in place, from row to row."""
        self.dataset("cells", PEOPLE)
        ids = [resident_id(8100 + i) for i in range(6)]
        data = ("id_no,name,mobile,district,age,note\n"
                "%s,One,13800138001,east,31,first\n"
                "%s,Two,,,,\n"
                "%s,Three,13800138003,west,,third\n"
                "%s,Four,13800138004,north,x4,fourth\n"     # age not a number: quarantined
                "%s,Five,13800138005,n,5,a longer note than any before it\n"
                "%s,Six,13800138006,south,60,6\n" % tuple(ids)).encode()
        s, b = self.upload("cells", data)
        self.assertEqual((s, b["accepted"], b["quarantined"]), (201, 5, 1), b)
        got = [self.search("cells", x, token=self.owner) for x in ids]
        got = [r[0]["data"] if r else None for r in got]
        self.assertEqual(got[0], {"id_no": ids[0], "name": "One", "mobile": "13800138001",
                                  "district": "east", "age": 31, "note": "first"})
        self.assertEqual(got[1], {"id_no": ids[1], "name": "Two"})
        self.assertEqual(got[2], {"id_no": ids[2], "name": "Three", "mobile": "13800138003",
                                  "district": "west", "note": "third"})
        self.assertIsNone(got[3])
        self.assertEqual(got[4], {"id_no": ids[4], "name": "Five", "mobile": "13800138005",
                                  "district": "n", "age": 5, "note": "a longer note than any before it"})
        self.assertEqual(got[5], {"id_no": ids[5], "name": "Six", "mobile": "13800138006",
                                  "district": "south", "age": 60, "note": "6"})

    def test_last_chunks_smaller_with_declared_length(self):
        """With a declared Content-Length the last chunks of an import are smaller, so
        that little is left to write once the body has arrived; a chunked body keeps
        whole chunks.  Blocks of rows as received never span two chunks, so the blocks'
        row counts show where the chunks ended."""
        self.dataset("taper", {"fields": [{"name": "k", "type": "string"},
                                          {"name": "pad", "type": "string"}]}, grade=1)
        data = b"k,pad\n" + b"".join(("k%07d,%s\n" % (i, "p" * 200)).encode() for i in range(1300))
        s, declared = self.upload("taper", data)
        self.assertEqual((s, declared["accepted"]), (201, 1300), declared)
        c = self.d.connect()
        try:
            c.putrequest("POST", "/v1/datasets/taper/batches?source=taper")
            c.putheader("Authorization", "Bearer " + self.owner)
            c.putheader("Content-Type", "text/csv")
            c.putheader("X-Content-SM3", sm3(data))
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            for at in range(0, len(data), 50000):
                part = data[at:at + 50000]
                c.send(b"%x\r\n%s\r\n" % (len(part), part))
            c.send(b"0\r\n\r\n")
            r = c.getresponse()
            chunked = json.loads(r.read())
            self.assertEqual((r.status, chunked["accepted"]), (201, 1300), chunked)
        finally:
            c.close()
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        try:
            sizes = {b["id"]: [n for (n,) in db.execute(
                "SELECT rows FROM raw_blocks WHERE batch_id = ? ORDER BY first_row", (b["id"],))]
                for b in (declared, chunked)}
        finally:
            db.close()
        # 1301 rows (the header is row 1).  Chunked: chunks of 128, 256, 512 and 405
        # rows, so every block but the last holds 128.
        self.assertEqual(sizes[chunked["id"]], [128] * 10 + [21])
        # Declared: after the first chunk, each chunk takes about half of what is left,
        # down to 128 rows: short blocks end chunks before the last, and the last chunk
        # (after the last short block before the end) is small.
        short = [i for i, n in enumerate(sizes[declared["id"]][:-1]) if n < 128]
        self.assertGreaterEqual(len(short), 2, sizes[declared["id"]])
        self.assertEqual(sum(sizes[declared["id"]]), 1301)
        self.assertLessEqual(sum(sizes[declared["id"]][short[-1] + 1:]), 256, sizes[declared["id"]])

    def test_unique_across_chunks(self):
        """Rows are written in chunks (128 rows, then 256, doubling) while the next chunk
        is checked, and their index entries are added only at the end: a value repeated
        in a later chunk (one already written, or one still being written) or in the
        same chunk is caught all the same, from the import's own set of values."""
        self.dataset("serials", {"fields": [{"name": "k", "type": "string", "indexed": True}]}, grade=1,
                     quality_rules=[{"field": "k", "rule": "unique"}])
        keys = ["s%05d" % i for i in range(2000)]
        keys.insert(600, "s00005")     # in an earlier chunk (rows 1-128), written by then
        keys.insert(1700, "s00700")    # in the chunk before, possibly still being written
        keys.insert(1900, "s01800")    # earlier in the same chunk
        data = ("k\n" + "\n".join(keys) + "\n").encode()
        s, b = self.upload("serials", data)
        self.assertEqual((s, b["rows"], b["accepted"], b["quarantined"]), (201, 2003, 2000, 3), b)
        q = self.rows("serials", b["id"], "quarantined")
        self.assertEqual([r["reasons"][0]["rule"] for r in q], ["unique"] * 3)
        self.assertEqual([r["raw"] for r in q], ["s00005", "s00700", "s01800"])
        # Against what is stored: a second batch with one old and one new value.
        s, b = self.upload("serials", b"k\ns00001\nnew1\n")
        self.assertEqual((s, b["accepted"], b["quarantined"]), (201, 1, 1), b)

    def test_unique_values_bounded(self):
        """An import remembers the values of its own rows under unique rules (they reach
        the index only at its end), up to data.import_unique_values: a batch with more
        is rejected as a whole, with the key to raise or the advice to split the file."""
        self.dataset("capped", {"fields": [{"name": "k", "type": "string", "indexed": True}]}, grade=1,
                     quality_rules=[{"field": "k", "rule": "unique"}])
        data = ("k\n" + "".join("c%05d\n" % i for i in range(2501))).encode()
        s, b = self.upload("capped", data)
        self.assertEqual(s, 400, b)
        self.assertIn("more than 2500 values under unique rules", b["error"]["message"])
        self.assertIn("data.import_unique_values", b["error"]["message"])
        s, r = self.d.req("GET", "/v1/datasets/capped/batches", token=self.owner)
        self.assertEqual([(x["state"], x["sm3"]) for x in r["batches"]], [("rejected", sm3(data))], r)
        s, r = self.d.req("GET", "/v1/datasets/capped/search?field=k&value=c00001", token=self.owner)
        self.assertEqual((s, r["records"]), (200, []))
        # At the bound it is accepted.
        s, b = self.upload("capped", data[:-len(b"c02500\n")])
        self.assertEqual((s, b["accepted"]), (201, 2500), b)

    def test_rows_as_received_in_sealed_blocks(self):
        """Rows as received are kept in compressed blocks sealed under the dataset key
        (128 rows a block): nothing of them is in clear in the database, every row reads
        back exactly across block boundaries, and a damaged block fails closed without
        touching the rows of other blocks."""
        self.dataset("ledger", PEOPLE)
        lines = ["%s,Name%d,1380000%04d,east,%d,note %d" % (resident_id(7000 + i), i, i, 20 + i % 50, i)
                 for i in range(300)]
        data = ("id_no,name,mobile,district,age,note\n" + "\n".join(lines) + "\n").encode()
        s, b = self.upload("ledger", data)
        self.assertEqual((s, b["accepted"]), (201, 300), b)
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        try:
            blocks = db.execute("SELECT first_row, rows, sealed FROM raw_blocks WHERE batch_id = ? "
                                "ORDER BY first_row", (b["id"],)).fetchall()
            own = db.execute("SELECT count(*) FROM raw_rows WHERE batch_id = ? AND length(sealed) > 0",
                             (b["id"],)).fetchone()[0]
        finally:
            db.close()
        # 301 rows (the header is row 1): blocks of 128, 128 and 45, and no row sealed alone.
        self.assertEqual([(f, n) for f, n, _ in blocks], [(1, 128), (129, 128), (257, 45)])
        self.assertEqual(own, 0)
        for _, _, sealed in blocks:
            self.assertNotIn(lines[0][:18].encode(), sealed)
            self.assertNotIn(b"Name1", sealed)
        got, after = [], 0
        while True:
            s, r = self.d.req("GET", "/v1/datasets/ledger/batches/%d/rows?limit=70&after=%d" % (b["id"], after),
                              token=self.owner)
            self.assertEqual(s, 200, r)
            got += r["rows"]
            if r["next"] is None:
                break
            after = r["next"]
        self.assertEqual([x["row"] for x in got], list(range(1, 302)))
        self.assertEqual([x["raw"] for x in got[1:]], lines)
        # Flip one byte of the second block's ciphertext.
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        try:
            sealed = bytearray(blocks[1][2])
            sealed[40] ^= 1
            db.execute("UPDATE raw_blocks SET sealed = ? WHERE batch_id = ? AND first_row = 129",
                       (bytes(sealed), b["id"]))
            db.commit()
        finally:
            db.close()
        s, r = self.d.req("GET", "/v1/datasets/ledger/batches/%d/rows?limit=1&after=140" % b["id"],
                          token=self.owner)
        self.assertEqual(s, 500, r)
        self.assertNotIn(lines[140], json.dumps(r))
        s, r = self.d.req("GET", "/v1/datasets/ledger/batches/%d/rows?limit=1&after=260" % b["id"],
                          token=self.owner)
        self.assertEqual((s, r["rows"][0]["raw"]), (200, lines[259]), r)

    def test_reference_rule(self):
        self.dataset("districts", {"fields": [{"name": "code", "type": "string", "indexed": True}]}, grade=1)
        self.assertEqual(self.upload("districts", b"code\neast\nwest\n")[0], 201)
        self.dataset("households", {"fields": [{"name": "district", "type": "string"}]}, grade=1,
                     quality_rules=[{"field": "district", "rule": "reference", "dataset": "districts",
                                     "ref_field": "code"}])
        s, b = self.upload("households", b"district\neast\nnorth\nwest\n")
        self.assertEqual((s, b["accepted"], b["quarantined"]), (201, 2, 1), b)
        self.assertEqual(self.rows("households", b["id"], "quarantined")[0]["reasons"][0]["rule"], "reference")
        # A rule the importer cannot evaluate refuses the batch before any row: here the
        # referenced dataset was raised above the importer's clearance.
        s, r = self.d.req("POST", "/v1/datasets/districts/grade", {"grade": 3, "reason": "x"}, self.sec)
        self.assertEqual(s, 200, r)
        s, r = self.upload("households", b"district\neast\n")
        self.assertError((s, r), 400, "invalid_request")
        self.assertIn("cannot read", r["error"]["message"])

    def test_large_streamed_import_kill9_leaves_nothing(self):
        self.dataset("bulk", {"fields": [{"name": "k", "type": "string", "indexed": True},
                                         {"name": "pad", "type": "string"}]}, grade=1)
        row = lambda i: ("k%07d,%s\n" % (i, "p" * 200)).encode()
        # A committed batch first, to show it survives.
        s, b = self.upload("bulk", b"k,pad\n" + b"".join(row(i) for i in range(100)))
        self.assertEqual((s, b["accepted"]), (201, 100), b)
        # Then a streamed upload that the daemon is killed in the middle of: after
        # some thousands of rows have been written in chunks.
        c = self.d.connect()
        c.putrequest("POST", "/v1/datasets/bulk/batches?source=bulkload")
        c.putheader("Authorization", "Bearer " + self.owner)
        c.putheader("Content-Type", "text/csv")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()

        def chunk(data):
            c.send(b"%x\r\n%s\r\n" % (len(data), data))
        chunk(b"k,pad\n")
        for n in range(20):
            chunk(b"".join(row(100000 + n * 500 + i) for i in range(500)))
        # Rows of the loading batch are on disk already (written in chunks), invisible.
        db = sqlite3.connect(os.path.join(self.d.data, "govvault.db"))
        deadline = time.monotonic() + 20
        written = 0
        while time.monotonic() < deadline and written < 2000:
            time.sleep(0.2)
            written = db.execute("SELECT count(*) FROM raw_rows WHERE batch_id = "
                                 "(SELECT max(id) FROM batches)").fetchone()[0]
        db.close()
        self.assertGreaterEqual(written, 2000)
        s, r = self.d.req("GET", "/v1/datasets/bulk/search?field=k&value=k0100000", token=self.owner)
        self.assertEqual((s, r["records"]), (200, []))
        self.d.proc.send_signal(signal.SIGKILL)
        self.d.proc.wait(10)
        c.close()
        self.d.start()
        s, r = self.d.req("GET", "/v1/datasets/bulk/batches", token=self.owner)
        self.assertEqual(s, 200, r)
        states = [x["state"] for x in r["batches"]]
        self.assertEqual(states, ["failed", "committed"], r)
        self.assertIn("stopped", r["batches"][0]["state_reason"])
        failed = r["batches"][0]["id"]
        s, h, body = self.d.raw("GET", "/v1/datasets/bulk/export", None,
                                {"Authorization": "Bearer " + self.owner, "X-Purpose": "e2e test"})
        self.assertEqual((s, len(body.splitlines())), (200, 100))
        s, r = self.d.req("GET", "/v1/datasets/bulk/search?field=k&value=k0100000", token=self.owner)
        self.assertEqual((s, r["records"]), (200, []))
        self.assertEqual(self.d.req("GET", "/v1/datasets/bulk/batches/%d/rows" % failed,
                                    token=self.owner)[1]["rows"], [])
        self.assertTrue(self.d.audit(self.aud, action="batch.recovered")[0])


if __name__ == "__main__":
    unittest.main()
