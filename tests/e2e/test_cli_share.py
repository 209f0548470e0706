"""The govvault CLI's sharing commands against the real daemon: secadmin authorises a
department on a grade-2 dataset, an analyst asks for it with a data service read from a
file, the data owner approves it narrower than asked, secadmin registers a consumer
(its secret printed once), the consumer calls the service with the secret from a file
and from the environment (values percent-encoded, HTTP Basic) and is refused with the
daemon's message, the call report and the public catalogue are read, and the share is
revoked.  Also: return, amendment (what is not given stays), rejection and withdrawal;
a consumer change that keeps what it is not told to change; secret rotation; and bad
arguments, which must exit 2 without sending anything and never echo a secret."""
import datetime
import json
import os
import re
import subprocess

from gvtest import CLI, DaemonTest

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

TODAY = datetime.datetime.utcnow().date()
FAR = (TODAY + datetime.timedelta(days=700)).isoformat()
NEAR = (TODAY + datetime.timedelta(days=600)).isoformat()
CLIENT_ID = re.compile(r"^gvc_[0-9a-f]{16}$")


class CliShareTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.d
        d.purpose = None
        cls.sec = d.activate_admin("secadmin").token
        cls.aud = d.activate_admin("auditadmin").token
        cls.tok = {}
        for name, role, dept, clearance in (("owner_a", "data_owner", "Statistics", 3),
                                            ("analyst_c", "analyst", "Transport", 2)):
            cls.tok[name] = d.member(cls.sec, name, role, dept, clearance)
        cls.tok["sec"], cls.tok["aud"] = cls.sec, cls.aud
        for grade in (1, 2):
            d.dataset(cls.tok["owner_a"], cls.sec, "s%d" % grade, grade, SCHEMA, ROWS,
                      title="Residents %d" % grade, description="residents of the city")
        cls.work = os.path.join(d.dir, "work")
        os.mkdir(cls.work)
        cls.printed = []       # everything the CLI wrote, checked for secrets at the end

    # -- helpers ------------------------------------------------------------------
    def cli(self, *args, who=None, env=None, url=None):
        e = dict(os.environ, GOVVAULT_URL=url or "https://127.0.0.1:%d" % self.d.port,
                 GOVVAULT_CACERT=os.path.join(self.d.data, "tls/cert.pem"),
                 GOVVAULT_TOKEN_FILE=os.path.join(self.d.dir, "no-token"))
        for k in ("GOVVAULT_TOKEN", "GOVVAULT_CLIENT_SECRET", "GOVVAULT_PURPOSE"):
            e.pop(k, None)
        if who:
            e["GOVVAULT_TOKEN"] = self.tok[who]
        e.update(env or {})
        r = subprocess.run([CLI] + list(args), capture_output=True, text=True, env=e, timeout=60)
        self.printed.append((args, r.stdout, r.stderr))
        return r

    def ok(self, *args, **kw):
        r = self.cli(*args, **kw)
        self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
        return json.loads(r.stdout)

    def fails(self, *args, status=1, says=(), **kw):
        r = self.cli(*args, **kw)
        self.assertEqual(r.returncode, status, "%s: %s%s" % (args, r.stdout, r.stderr))
        self.assertEqual(r.stdout, "", args)
        for text in (says if isinstance(says, tuple) else (says,)):
            self.assertIn(text, r.stderr, args)
        return r.stderr

    def write(self, name, content, mode=0o600):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        os.chmod(path, mode)
        return path

    def ask_args(self, dataset, *extra):
        return ("share", "request", dataset, "--purpose", "benefit checks", "--legal-basis",
                "Social Assistance Measures Art. 12", "--until", FAR, "--rows-per-day", "1000") + extra

    def consumer(self, services):
        r = self.cli("consumer", "create", "--name", "transport app", "--department", "Transport",
                     "--allow", "127.0.0.1/32, 10.1.0.0/16", "--services", services, who="sec")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("shown only this once", r.stderr)
        c = json.loads(r.stdout)
        self.assertRegex(c["client_id"], CLIENT_ID)
        self.assertEqual(len(c["client_secret"]), 64)
        self.assertEqual(c["ip_allowlist"], ["127.0.0.1/32", "10.1.0.0/16"])
        self.d.secrets.add(c["client_secret"])
        return c["client_id"], c["client_secret"]

    # -- the flow -----------------------------------------------------------------
    def test_1_share_service_consumer_report_revoke(self):
        # Authorise the department on the grade-2 dataset; the owner may read the list.
        r = self.ok("share", "departments", "s2", "--set", "Transport", "--reason", "receives it by law",
                    who="sec")
        self.assertEqual((r["dataset"], r["departments"]), ("s2", ["Transport"]))
        self.assertEqual(self.ok("share", "departments", "s2", who="owner_a")["departments"], ["Transport"])
        self.fails("share", "departments", "s2", "--set", "Health", "--reason", "x", who="owner_a",
                   says=("forbidden", "HTTP 403"))

        # The request, with its data service from a file.
        spec = self.write("spec.json", {"name": "s2-lookup", "params": PARAMS,
                                        "fields": ["name", "district"], "max_rows_per_call": 5,
                                        "rate_limit_per_minute": 600})
        q = self.ok(*self.ask_args("s2", "--fields", "id_no,name,district", "--service-file", spec,
                                   "--comment", "please"), who="analyst_c")
        self.assertEqual((q["kind"], q["dataset"], q["state"]), ("share", "s2", "pending"))
        self.assertEqual(q["fields"], ["id_no", "name", "district"])
        self.assertEqual(q["service"]["name"], "s2-lookup")
        self.assertEqual(q["valid_until"], FAR + "T00:00:00Z")
        rid = str(q["id"])
        listed = self.ok("share", "list", "--state", "pending", who="owner_a")["requests"]
        self.assertIn(q["id"], [x["id"] for x in listed])
        self.assertEqual(self.ok("share", "list", "--state", "approved", who="owner_a")["requests"], [])
        self.assertEqual(self.ok("share", "show", rid, who="owner_a")["events"][0]["step"], "created")

        # Approval narrower than asked; wider is refused with the daemon's reason.
        self.fails("share", "approve", rid, "--narrow-fields", "age", who="owner_a",
                   says=("HTTP 400", "subset"))
        q = self.ok("share", "approve", rid, "--comment", "less", "--narrow-fields", "id_no, district",
                    "--narrow-rows-per-day", "10", "--narrow-max-rows", "2", "--narrow-until", NEAR,
                    who="owner_a")
        self.assertEqual(q["state"], "approved")
        self.assertEqual((q["fields"], q["expected_rows_per_day"]), (["id_no", "district"], 10))
        self.assertEqual(q["valid_until"], NEAR + "T00:00:00Z")
        self.assertEqual((q["service"]["fields"], q["service"]["max_rows_per_call"]), (["district"], 2))
        self.assertEqual(q["data_service"], {"name": "s2-lookup", "version": 1})
        self.assertEqual(q["events"][-1]["step"], "narrowed")
        svc = [x for x in self.ok("service", "list", who="analyst_c")["services"] if x["name"] == "s2-lookup"]
        self.assertEqual((svc[0]["state"], svc[0]["max_rows_per_call"]), ("active", 2))

        # The consumer: its secret is printed once and never again.
        cid, secret = self.consumer("s2-lookup")
        self.assertIn(cid, [x["client_id"] for x in self.ok("consumer", "list", who="sec")["consumers"]])
        shown = self.ok("consumer", "show", cid, who="sec")
        self.assertEqual((shown["services"], shown["state"]), (["s2-lookup"], "active"))
        self.assertNotIn("client_secret", shown)

        # Calls: the secret from a file, then from the environment.
        sfile = self.write("secret", secret + "\n")
        r = self.ok("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile,
                    "id_no=" + ID1)
        self.assertEqual((r["service"], r["version"], r["count"]), ("s2-lookup", 1, 1))
        self.assertEqual((r["records"][0]["id"], r["records"][0]["data"]), ("r1", {"district": "east"}))
        # "&" and "=" inside a value stay in the value (else: an unknown parameter x).
        r = self.ok("service", "call", "s2-lookup", "--version", "1", "--client-id", cid,
                    "id_no=" + ID1, "district=e&x=1", env={"GOVVAULT_CLIENT_SECRET": secret})
        self.assertEqual(r["count"], 0)
        # Refusals: the daemon's message on stderr, exit 1.
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile,
                   "id_no=" + ID1, "nope=1", says=("unknown parameter", "invalid_request", "HTTP 400"))
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile,
                   "district=east", says=("required", "HTTP 400"))
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "id_no=" + ID1,
                   env={"GOVVAULT_CLIENT_SECRET": "0" * 64},
                   says=("wrong credentials", "HTTP 401"))
        self.fails("service", "call", "s2-lookup", "--version", "7", "--client-id", cid,
                   "--secret-file", sfile, "id_no=" + ID1, says="HTTP 404")
        # The secret file may not be readable by others without a warning.
        loose = self.write("loose-secret", secret, mode=0o644)
        r = self.cli("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", loose,
                     "id_no=" + ID1)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("can be read by other users", r.stderr)

        # A change keeps what it is not told to change (the API replaces services).
        c = self.ok("consumer", "change", cid, "--name", "transport app v2", who="sec")
        self.assertEqual((c["name"], c["services"], c["ip_allowlist"]),
                         ("transport app v2", ["s2-lookup"], ["127.0.0.1/32", "10.1.0.0/16"]))
        self.assertEqual(self.ok("consumer", "change", cid, "--services", "", who="sec")["services"], [])
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile,
                   "id_no=" + ID1, says="HTTP 404")
        c = self.ok("consumer", "change", cid, "--services", "s2-lookup", "--allow", "127.0.0.1",
                    who="sec")
        self.assertEqual((c["name"], c["services"], c["ip_allowlist"]),
                         ("transport app v2", ["s2-lookup"], ["127.0.0.1"]))

        # Rotation: the new secret is printed once, the old one stops at once.
        r = self.cli("consumer", "rotate-secret", cid, who="sec")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("shown only this once", r.stderr)
        new = json.loads(r.stdout)["client_secret"]
        self.d.secrets.add(new)
        self.assertNotEqual(new, secret)
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile,
                   "id_no=" + ID1, says="HTTP 401")
        sfile = self.write("secret", new)
        self.assertEqual(self.ok("service", "call", "s2-lookup", "--client-id", cid, "--secret-file",
                                 sfile, "id_no=" + ID1)["count"], 1)

        # The call report, for secadmin and auditadmin; not for the data owner.
        day = datetime.timedelta(days=1)
        for who in ("sec", "aud"):
            rows = self.ok("report", "service-calls", "--from", (TODAY - day).isoformat(), "--to",
                           (TODAY + day).isoformat(), "--consumer", cid, who=who)["rows"]
            self.assertTrue(rows, rows)
            self.assertEqual({x["consumer"] for x in rows}, {cid})
            self.assertIn("s2-lookup/v1", {x["service"] for x in rows})
            self.assertGreaterEqual(sum(x["calls"] for x in rows), 5)
            self.assertGreaterEqual(sum(x["refusals"] for x in rows), 2)
            self.assertGreaterEqual(sum(x["rows"] for x in rows), 3)
        self.fails("report", "service-calls", who="owner_a", says="HTTP 403")

        # Revocation ends the grant and the service: the consumer is refused, exit 1.
        self.fails("share", "revoke", rid, "--comment", "x", who="analyst_c", says="HTTP 403")
        q = self.ok("share", "revoke", rid, "--comment", "no longer needed", who="sec")
        self.assertEqual((q["state"], q["events"][-1]["step"]), ("revoked", "revoked"))
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile,
                   "id_no=" + ID1, says=("revoked", "HTTP 403"))
        # A revoked consumer stops at once.
        self.assertEqual(self.ok("consumer", "revoke", cid, who="sec")["state"], "revoked")
        self.fails("consumer", "revoke", cid, who="sec", says="HTTP 409")

        # No secret ever reached an output other than the two one-time answers.
        for args, out, err in self.printed:
            shows_secret = args[:2] in (("consumer", "create"), ("consumer", "rotate-secret"))
            for s in (secret, new):
                self.assertNotIn(s, err, args)
                if not shows_secret:
                    self.assertNotIn(s, out, args)
        self.assertHealthy()

    def test_2_open_catalogue(self):
        # Public: no token at all.
        self.assertEqual(self.ok("catalogue")["datasets"], [])
        spec = self.write("open.json", {"name": "s1-open", "params": [{"name": "district", "required": True}],
                                        "max_rows_per_call": 5, "rate_limit_per_minute": 600})
        self.fails(*self.ask_args("s1", "--open"), who="analyst_c", says="HTTP 403")
        q = self.ok(*self.ask_args("s1", "--open", "--fields", "district,age", "--service-file", spec),
                    who="owner_a")
        self.assertEqual((q["kind"], q["state"]), ("open", "pending"))
        q = self.ok("share", "approve", str(q["id"]), "--comment", "publish", who="sec")
        self.assertEqual(q["state"], "approved")
        [entry] = self.ok("catalogue")["datasets"]
        self.assertEqual((entry["dataset"], entry["grade"]), ("s1", 1))
        self.assertEqual([f["name"] for f in entry["fields"]], ["district", "age"])
        self.assertEqual([x["name"] for x in entry["services"]], ["s1-open"])
        # Public with a session too: the token is not needed and not sent.
        self.assertEqual(len(self.ok("catalogue", who="analyst_c")["datasets"]), 1)

    def test_3_return_amend_reject_withdraw(self):
        q = self.ok(*self.ask_args("s1", "--fields", "name", "--actions", "read"), who="analyst_c")
        rid = str(q["id"])
        q = self.ok("share", "return", rid, "--comment", "name the legal article", who="owner_a")
        self.assertEqual(q["state"], "returned")
        self.fails("share", "amend", rid, "--legal-basis", "x", who="owner_a", says="HTTP 403")
        # Only what is given changes: fields, actions, purpose and the end stay.
        q = self.ok("share", "amend", rid, "--legal-basis", "Measures Art. 12(3)", "--comment",
                    "article named", who="analyst_c")
        self.assertEqual((q["state"], q["legal_basis"]), ("pending", "Measures Art. 12(3)"))
        self.assertEqual((q["fields"], q["actions"], q["purpose"]), (["name"], ["read"], "benefit checks"))
        self.assertEqual((q["valid_until"], q["expected_rows_per_day"]), (FAR + "T00:00:00Z", 1000))
        self.assertEqual([e["step"] for e in q["events"]], ["created", "returned", "amended"])
        self.assertEqual(q["events"][-1]["comment"], "article named")
        q = self.ok("share", "reject", rid, "--comment", "no need shown", who="owner_a")
        self.assertEqual((q["state"], q["grant"]), ("rejected", None))
        self.fails("share", "amend", rid, "--comment", "again", who="analyst_c",
                   says=("HTTP 409", "returned"))
        q = self.ok(*self.ask_args("s1"), who="analyst_c")
        q = self.ok("share", "withdraw", str(q["id"]), who="analyst_c")
        self.assertEqual(q["state"], "withdrawn")
        self.fails("share", "show", "999999", who="analyst_c", says=("no such request", "HTTP 404"))

    def test_4_bad_arguments(self):
        """Each exits 2 with a reason and sends nothing: the URL is a closed port, so a
        request would end in "cannot reach" and exit 1 instead."""
        dead = "https://127.0.0.1:1"
        cid = "gvc_0123456789abcdef"
        sfile = self.write("secret-bad", "s3cr3t-value-never-shown\n")
        cases = [
            (self.ask_args("s1")[:-2], "--rows-per-day is required"),
            (self.ask_args("s1")[:-4] + ("--until", "2030-02-30", "--rows-per-day", "1"), "--until"),
            (self.ask_args("s1")[:-1] + ("lots",), "--rows-per-day must be a whole number"),
            (self.ask_args("s1", "--fields", "a,,b"), "--fields has an empty item"),
            (self.ask_args("s1", "--open", "--open"), "--open is given twice"),
            (self.ask_args("s1", "--frobnicate"), "unknown option '--frobnicate'"),
            (("share", "request"), "usage: govvault share request"),
            (("share", "show", "abc"), "the request ID must be a whole number"),
            (("share", "approve", "1", "--narrow-max-rows", "5000"), "--narrow-max-rows"),
            (("share", "approve", "1", "--narrow-until", "soon"), "--narrow-until must be a date"),
            (("share", "return", "1"), "--comment is required"),
            (("share", "reject", "1"), "--comment is required"),
            (("share", "revoke", "1"), "--comment is required"),
            (("share", "departments", "s2", "--set", "Health"), "--set needs --reason"),
            (("share", "departments", "s2", "--reason", "x"), "--reason goes with --set"),
            (("share", "frobnicate"), "unknown command 'share frobnicate'"),
            (("service", "call", "s2-lookup", "--client-id", cid, "id_no=1"), "GOVVAULT_CLIENT_SECRET"),
            (("service", "call", "s2-lookup", "id_no=1"), "--client-id is required"),
            (("service", "call", "s2-lookup", "--client-id", "gvc_XYZ", "--secret-file", sfile, "a=1"),
             "a client ID is gvc_"),
            (("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile, "plain"),
             "KEY=VALUE"),
            (("service", "call", "s2-lookup", "--client-id", cid, "--secret-file", sfile, "--version",
              "0", "a=1"), "--version must be"),
            (("service", "call", "s2-lookup", "--secret-file", sfile, "a=1"), "--secret-file goes with"),
            (("consumer", "create", "--name", "x", "--department", "D"), "--allow is required"),
            (("consumer", "create", "--name", "x", "--department", "D", "--allow", ""),
             "--allow needs at least one"),
            (("consumer", "create", "--name", "x", "--department", "D", "--allow", "10.0.0.0/8",
              "--cert-fp", "abc"), "--cert-fp"),
            (("consumer", "change", cid), "nothing to change"),
            (("consumer", "show", "nope"), "a client ID is gvc_"),
            (("report", "service-calls", "--from", "yesterday"), "--from must be a date"),
            (("report", "service-calls", "--from", "2030-01-05", "--to", "2030-01-01"), "after --to"),
            (("catalogue", "extra"), "unexpected argument 'extra'"),
        ]
        for args, why in cases:
            err = self.fails(*args, status=2, says=why, url=dead, who="sec")
            self.assertNotIn("cannot reach", err, args)
        # A secret put on the command line is refused, and not echoed.
        err = self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret",
                         "hunter2-on-argv", "a=1", status=2, url=dead, says="unknown option '--secret'")
        self.assertNotIn("hunter2-on-argv", err)
        # An unreadable secret file or service file fails before any request.
        self.fails("service", "call", "s2-lookup", "--client-id", cid, "--secret-file",
                   os.path.join(self.work, "missing"), "a=1", url=dead, says="cannot read the secret file")
        self.fails(*self.ask_args("s1", "--service-file", self.write("bad.json", "{\"name\": ")),
                   url=dead, says="bad.json:1:")
        for args, _, err in self.printed:
            self.assertNotIn("s3cr3t-value-never-shown", err, args)


if __name__ == "__main__":
    import unittest
    unittest.main()
