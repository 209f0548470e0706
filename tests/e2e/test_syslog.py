"""SIEM forwarding through the real daemon to Debian's rsyslogd: RFC 5424 over TCP with
octet counting.  A private rsyslogd (own configuration, pid file and work directory;
no local-socket or kernel input, so the system's syslog is neither used nor disturbed)
listens on a free loopback port and writes every message as received to a file.  The
tests check that requests and signed checkpoints arrive with their sequence numbers in
the govvault SD-ELEMENT, that the SIEM copy matches the daemon's own audit records,
that no password sent to the daemon reaches the SIEM, and that records made while the
receiver is down arrive after it comes back."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from gvtest import DaemonTest, free_port, strong_password

RSYSLOGD = "/usr/sbin/rsyslogd"
SD_ID = "govvault@32473"
LINE = re.compile(r'^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[' + re.escape(SD_ID) +
                  r'((?: [^= \]"]{1,32}="(?:[^"\\\]]|\\["\\\]])*")*)\](?: (.*))?$')
PARAM = re.compile(r' ([^= \]"]{1,32})="((?:[^"\\\]]|\\["\\\]])*)"')
FACILITY_AUTHPRIV = 10


def unescape(v):
    return re.sub(r'\\(["\\\]])', r"\1", v)


class Rsyslog:
    """A private rsyslogd on 127.0.0.1:port writing the raw messages to out."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gve2e-rsyslog-")
        self.out = os.path.join(self.dir, "siem.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        self.pidfile = os.path.join(self.dir, "rsyslogd.pid")
        self.work = os.path.join(self.dir, "work")
        os.mkdir(self.work)
        self.port = None
        self.proc = None
        self.log = None

    def _write_conf(self):
        # Only what this file loads runs: no imuxsock (/dev/log) and no imklog.  The file
        # gets what arrived over TCP, not rsyslogd's own start/stop messages.
        with open(self.conf, "w") as f:
            f.write('global(workDirectory="%s" maxMessageSize="64k")\n'
                    'module(load="imtcp")\n'
                    'template(name="raw" type="string" string="%%rawmsg%%\\n")\n'
                    'ruleset(name="siem") {\n'
                    '  action(type="omfile" file="%s" template="raw")\n'
                    '}\n'
                    'input(type="imtcp" port="%d" address="127.0.0.1" ruleset="siem")\n'
                    % (self.work, self.out, self.port))

    def start(self, port=None, attempts=3):
        for _ in range(attempts):
            self.port = port or free_port()
            self._write_conf()
            self.log = open(os.path.join(self.dir, "rsyslogd.stderr"), "a")
            self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                                         stdout=self.log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            self.stop()
            if port:
                break   # a fixed port (a restart) must not move
        raise RuntimeError("rsyslogd did not start:\n" + self.stderr())

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "rsyslogd.stderr")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        if not os.environ.get("GV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def text(self):
        try:
            with open(self.out, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def records(self):
        """Every govvault message received: list of dicts (params plus pri, msgid, msg).
        A line that is not of the forwarder's shape fails the test."""
        recs = []
        for line in self.text().splitlines():
            if not line:
                continue
            m = LINE.match(line)
            assert m, "not an RFC 5424 govvault message: %r" % line
            rec = {k: unescape(v) for k, v in PARAM.findall(m.group(7))}
            rec.update(pri=int(m.group(1)), ts=m.group(2), host=m.group(3), app=m.group(4),
                       msgid=m.group(6), msg=m.group(8) or "")
            recs.append(rec)
        return recs

    def wait_for(self, pred, timeout=10):
        """Records once pred(records) holds; fails after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records()
            if pred(recs) or time.monotonic() > deadline:
                return recs
            time.sleep(0.1)


@unittest.skipUnless(os.access(RSYSLOGD, os.X_OK), RSYSLOGD + " is not installed (apt-get install rsyslog)")
class SyslogForwardTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        cls.rs = Rsyslog()
        cls.addClassCleanup(cls.rs.cleanup)
        cls.rs.start()
        cls.extra = ("[audit]\nsyslog_host = 127.0.0.1\nsyslog_port = %d\ncheckpoint_seconds = 1\n"
                     % cls.rs.port)
        super().setUpClass()   # its cleanups run first: the daemon stops before rsyslogd

    def test_1_requests_arrive_with_their_sequence_numbers(self):
        d = self.d
        s, _, h_health = d.call("GET", "/v1/health")
        self.assertEqual(s, 200)
        password = strong_password()
        s, _, h_login = d.call("POST", "/v1/auth/login", {"username": "nobody", "password": password})
        self.assertEqual(s, 401)
        want = {h_health["X-Request-Id"], h_login["X-Request-Id"]}
        recs = self.rs.wait_for(lambda rs: want <= {r.get("request") for r in rs})
        by_req = {r.get("request"): r for r in recs}
        self.assertTrue(want <= set(by_req), self.rs.text()[-3000:])

        health, login = by_req[h_health["X-Request-Id"]], by_req[h_login["X-Request-Id"]]
        self.assertEqual((health["action"], health["result"], health["status"]), ("health", "permit", "200"))
        self.assertEqual(health["pri"], FACILITY_AUTHPRIV * 8 + 5)   # notice
        self.assertEqual((login["action"], login["result"]), ("auth.login", "deny"))
        self.assertEqual(login["pri"], FACILITY_AUTHPRIV * 8 + 4)    # warning
        for r in (health, login):
            self.assertEqual((r["app"], r["msgid"]), ("govvault", "request"))
            self.assertRegex(r["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            self.assertEqual(r["source"], "127.0.0.1")
            self.assertRegex(r["seq"], r"^[1-9]\d*$")
            self.assertIn(r["action"], r["msg"])
        self.assertGreater(int(login["seq"]), int(health["seq"]))
        self.assertNotIn(password, self.rs.text())

    def test_2_checkpoints_are_forwarded_and_match_the_log(self):
        d = self.d
        aud = d.activate_admin("auditadmin").token
        s, _, h = d.call("POST", "/v1/auth/login", {"username": "nobody", "password": strong_password()})
        self.assertEqual(s, 401)
        rid = h["X-Request-Id"]
        recs = self.rs.wait_for(lambda rs: any(r.get("request") == rid for r in rs))
        login_seq = [int(r["seq"]) for r in recs if r.get("request") == rid][0]

        # A time-based checkpoint (checkpoint_seconds = 1) of the daemon, not the one
        # `govvault init` wrote: it must come after the login.
        def newer_cp(rs):
            return any(r.get("action") == "audit.checkpoint" and int(r["seq"]) > login_seq
                       for r in rs)
        recs = self.rs.wait_for(newer_cp, timeout=10)
        self.assertTrue(newer_cp(recs), "no checkpoint reached the SIEM:\n" + self.rs.text()[-3000:])
        cps = [r for r in recs if r.get("action") == "audit.checkpoint"]
        for cp in cps:
            self.assertEqual(cp["msgid"], "checkpoint")
            self.assertEqual(cp["pri"], FACILITY_AUTHPRIV * 8 + 5)
            self.assertTrue(cp["detail"], cp)   # signature and key id

        # The SIEM's copy is the daemon's record, field for field, under the same seq.
        own, _ = d.audit(aud)
        own = {r["seq"]: r for r in own}
        seen = 0
        for r in self.rs.records():
            mine = own.get(int(r["seq"]))
            if mine is None:
                continue   # newer than the query
            seen += 1
            for siem_key, api_key in (("action", "action"), ("result", "result"),
                                      ("request", "request_id"), ("actor", "actor"),
                                      ("object", "object"), ("detail", "detail"),
                                      ("node", "node"), ("reason", "reason")):
                self.assertEqual(r.get(siem_key, ""), mine[api_key], (siem_key, r, mine))
            self.assertEqual(int(r.get("status", "0")), mine["status"], (r, mine))
            self.assertEqual(r["msgid"], mine["kind"])
        self.assertGreater(seen, 5)

    def test_3_no_secret_reaches_the_siem(self):
        text = self.rs.text()
        self.assertTrue(text)
        for secret in self.d.secrets:
            self.assertNotIn(secret, text)

    def test_4_records_made_while_the_siem_is_down_arrive_later(self):
        d, port = self.d, self.rs.port
        self.rs.stop()
        s, _, h = d.call("GET", "/v1/health")
        self.assertEqual(s, 200)   # forwarding never holds up a request
        time.sleep(0.5)
        self.rs.start(port=port)
        rid = h["X-Request-Id"]
        # Backoff is at most 5 s; give it two rounds.
        recs = self.rs.wait_for(lambda rs: any(r.get("request") == rid for r in rs), timeout=15)
        self.assertTrue(any(r.get("request") == rid for r in recs), self.rs.text()[-3000:])
        self.assertHealthy()


if __name__ == "__main__":
    unittest.main()
