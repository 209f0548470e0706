"""Shared harness for the end-to-end tests.

Each test module starts the real govvaultd: `govvault init` creates a temporary data
directory whose configuration gets the module's extra settings appended (later
duplicate keys override earlier ones), then `govvaultd --foreground` serves HTTPS on a
free loopback port.  The helpers below speak JSON over HTTPS (verifying the daemon's
self-signed certificate), compute RFC 6238 codes and walk accounts through their
first-login steps.

Binaries: GV_DAEMON and GV_CLI (set by CTest from $<TARGET_FILE:...>), else GV_BIN/<name>,
else ../../build/src/<name> relative to this file.  Set GV_KEEP=1 to keep the temporary
directories (configuration, database, daemon log) for inspection.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("GV_BIN") or os.path.normpath(os.path.join(HERE, "..", "..", "build", "src"))
DAEMON = os.environ.get("GV_DAEMON") or os.path.join(BIN, "govvaultd")
CLI = os.environ.get("GV_CLI") or os.path.join(BIN, "govvault")

ADMINS = ("sysadmin", "secadmin", "auditadmin")

# Cheap Argon2 keeps the suite fast; modules override what they need.
BASE_EXTRA = "[password]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp_at(secret, counter):
    """RFC 6238 / RFC 4226: HMAC-SHA-1, 6 digits, for a given 30-second counter."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def totp(secret, step_offset=0, now=None):
    return totp_at(secret, int((now or time.time()) // 30) + step_offset)


def secret_from_uri(uri):
    return re.search(r"[?&]secret=([A-Z2-7]+)", uri).group(1)


class Authenticator:
    """A user's TOTP app.  The server accepts a code of counters now-1..now+1 once and
    only if it is newer than the last accepted one, so each use takes the next counter;
    a third use within one 30 s step would have to wait (tests are designed not to)."""

    def __init__(self, secret):
        self.secret = secret
        self.last = 0

    def code(self):
        now = int(time.time() // 30)
        counter = max(self.last + 1, now)
        while counter > int(time.time() // 30) + 1:
            time.sleep(0.5)  # not expected: tests use at most two codes per step
        self.last = counter
        return totp_at(self.secret, counter)

    def wrong_code(self):
        """A well-formed code that matches none of the accepted counters."""
        valid = {totp_at(self.secret, int(time.time() // 30) + k) for k in range(-2, 3)}
        for candidate in ("000000", "111111", "123456", "654321", "999999", "424242"):
            if candidate not in valid:
                return candidate
        raise AssertionError("unreachable")


def strong_password(user=""):
    """A policy-conforming password (four classes, 18 chars) not containing user."""
    while True:
        pw = "Kq7#" + secrets.token_hex(6) + "Wz"
        if not user or user.lower() not in pw.lower():
            return pw


class Admin:
    def __init__(self, name, token, password, auth, codes):
        self.name, self.token, self.password, self.auth, self.codes = name, token, password, auth, codes


class Daemon:
    """One data directory plus (after start()) one running govvaultd."""

    def __init__(self, extra="", init=True):
        self.dir = tempfile.mkdtemp(prefix="gve2e-")
        self.data = os.path.join(self.dir, "data")
        self.conf = os.path.join(self.data, "govvault.conf")
        self.port = free_port()
        self.proc = None
        self.log = None
        self.secrets = set()  # every password/token/recovery code seen, for audit checks
        self.extra = extra
        # Reads of data declare a purpose (docs/access-control.md); tests that are about
        # the purpose set their own header, "" meaning none.
        self.purpose = "e2e test"
        if init:
            self.init()

    # -- set-up ------------------------------------------------------------------
    def init(self):
        extra_path = os.path.join(self.dir, "extra.conf")
        with open(extra_path, "w") as f:
            f.write("[server]\nport = %d\n%s\n%s\n" % (self.port, BASE_EXTRA, self.extra))
        r = subprocess.run([CLI, "init", "--data", self.data, "--config-extra", extra_path],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("govvault init failed (%d): %s" % (r.returncode, r.stderr))
        self.init_output = r.stdout
        self.otp = dict(re.findall(r"^\s+(\w+)\s+\(\s*\w+\s*\)\s+(\S+)\s*$", r.stdout, re.M))
        self.secrets.update(self.otp.values())

    def append_config(self, text):
        with open(self.conf, "a") as f:
            f.write("\n" + text + "\n")

    def start(self, attempts=3):
        for attempt in range(attempts):
            self.log_path = os.path.join(self.dir, "daemon-%d.log" % attempt)
            self.log = open(self.log_path, "w")
            self.proc = subprocess.Popen([DAEMON, "--config", self.conf, "--foreground"],
                                         stdout=self.log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.raw("GET", "/v1/health", timeout=2)[0] == 200:
                        return self
                except (OSError, http.client.HTTPException):
                    time.sleep(0.05)
            text = self.daemon_log()
            self.kill()
            if "cannot listen" in text and attempt + 1 < attempts:
                # Another process took the port between free_port() and bind: move on.
                self.port = free_port()
                self.append_config("[server]\nport = %d" % self.port)
                continue
            raise RuntimeError("govvaultd did not start:\n" + text)
        raise RuntimeError("unreachable")

    def daemon_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except (AttributeError, OSError):
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def terminate(self, timeout=10):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self.proc = None
        if self.log:
            self.log.close()
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        if self.log:
            self.log.close()

    def cleanup(self):
        self.kill()
        if not os.environ.get("GV_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self):
        rc = self.terminate()
        self.cleanup()
        return rc

    # -- HTTPS -------------------------------------------------------------------
    def context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.data, "tls", "cert.pem"))
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def connect(self, ctx=None, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx or self.context(),
                                           timeout=timeout)

    def raw(self, method, path, body=None, headers=None, ctx=None, timeout=30):
        """One request on a fresh connection: (status, headers dict, body bytes)."""
        c = self.connect(ctx, timeout)
        try:
            c.request(method, path, body, headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict(r.getheaders()), data
        finally:
            c.close()

    def call(self, method, path, body=None, token=None, ctx=None, headers=None):
        """JSON request: (status, parsed body, headers).  Every error body is checked
        for the documented shape {"error": {code, message, request_id}}."""
        hdrs = dict(headers or {})
        if self.purpose and "X-Purpose" not in hdrs:
            hdrs["X-Purpose"] = self.purpose
        if body is not None:
            hdrs["Content-Type"] = "application/json"
            self._remember(body)
            body = json.dumps(body)
        if token:
            hdrs["Authorization"] = "Bearer " + token
        status, rh, data = self.raw(method, path, body, hdrs, ctx)
        doc = json.loads(data) if data else None
        assert "X-Request-Id" in rh, (method, path, status, rh)
        if status >= 400:
            assert isinstance(doc, dict) and set(doc) == {"error"}, (method, path, status, data)
            err = doc["error"]
            assert err["code"] and err["message"], (method, path, data)
            assert err["request_id"] == rh["X-Request-Id"], (method, path, data, rh)
        self._remember(doc)
        return status, doc, rh

    def req(self, method, path, body=None, token=None, ctx=None):
        status, doc, _ = self.call(method, path, body, token, ctx)
        return status, doc

    def _remember(self, doc):
        if not isinstance(doc, dict):
            return
        for k in ("password", "current_password", "new_password", "token", "client_secret",
                  "one_time_password", "recovery_code"):
            if isinstance(doc.get(k), str) and len(doc[k]) >= 8:
                self.secrets.add(doc[k])
        if isinstance(doc.get("recovery_codes"), list):
            self.secrets.update(doc["recovery_codes"])
        if isinstance(doc.get("otpauth_uri"), str):
            self.secrets.add(secret_from_uri(doc["otpauth_uri"]))

    # -- accounts and login steps ----------------------------------------------
    def login(self, user, password, ctx=None):
        return self.req("POST", "/v1/auth/login", {"username": user, "password": password}, ctx=ctx)

    def logout(self, token, ctx=None):
        return self.req("POST", "/v1/auth/logout", None, token, ctx)[0]

    def enroll(self, token, ctx=None):
        """TOTP enrolment from the current session: (Authenticator, recovery codes)."""
        s, r = self.req("POST", "/v1/auth/totp/enroll", {}, token, ctx)
        assert s == 200, (s, r)
        assert r["qr_svg"].startswith("<svg") and len(r["recovery_codes"]) == 10, r
        auth = Authenticator(secret_from_uri(r["otpauth_uri"]))
        s, r2 = self.req("POST", "/v1/auth/totp/confirm", {"code": auth.code()}, token, ctx)
        assert s == 200 and r2["totp_enabled"] is True, (s, r2)
        return auth, r["recovery_codes"], r2["stage"]

    def activate_admin(self, name):
        """First login of an initial administrator: forced change, then TOTP enrolment."""
        s, r = self.login(name, self.otp[name])
        assert s == 200 and r["stage"] == "password_change", (s, r)
        token, password = r["token"], strong_password(name)
        s, r = self.req("POST", "/v1/auth/password",
                        {"current_password": self.otp[name], "new_password": password}, token)
        assert s == 200 and r["stage"] == "totp_enroll", (s, r)
        auth, codes, stage = self.enroll(token)
        assert stage == "active", stage
        return Admin(name, token, password, auth, list(codes))

    def admin_login(self, admin, use_code=False):
        """A further login of an enrolled administrator, with a recovery code unless
        use_code (then the authenticator's next code)."""
        s, r = self.login(admin.name, admin.password)
        assert s == 200 and r["stage"] == "totp_verify", (s, r)
        body = {"code": admin.auth.code()} if use_code else {"recovery_code": admin.codes.pop()}
        s, r2 = self.req("POST", "/v1/auth/totp", body, r["token"])
        assert s == 200 and r2["stage"] == "active", (s, r2)
        return r["token"]

    def apply(self, sec_token, name, roles=("analyst",), **fields):
        body = {"username": name, "full_name": "User " + name, "department": "Statistics",
                "contact": name + "@example.gov", "roles": list(roles)}
        body.update(fields)
        return self.req("POST", "/v1/accounts", body, sec_token)

    def new_user(self, sec_token, name, roles=("analyst",), **fields):
        """Application and approval of a business account; returns its one-time password."""
        s, r = self.apply(sec_token, name, roles, **fields)
        assert s == 201 and r["status"] == "pending", (s, r)
        s, r = self.req("POST", "/v1/accounts/%s/approve" % name, None, sec_token)
        assert s == 200 and r["status"] == "active", (s, r)
        return r["one_time_password"]

    def activate_user(self, name, otp, password=None, ctx=None, expect_stage="active"):
        """First login and forced password change: (token, new password)."""
        password = password or strong_password(name)
        s, r = self.login(name, otp, ctx)
        assert s == 200 and r["stage"] == "password_change", (s, r)
        s, r2 = self.req("POST", "/v1/auth/password",
                         {"current_password": otp, "new_password": password}, r["token"], ctx)
        assert s == 200 and r2["stage"] == expect_stage, (s, r2)
        return r["token"], password

    def user(self, sec_token, name, ctx=None, **fields):
        """A ready business account (no TOTP): (token, password)."""
        return self.activate_user(name, self.new_user(sec_token, name, **fields), ctx=ctx)

    def member(self, sec_token, name, role, department, clearance):
        """A ready business account of a department with a clearance: its token.  A
        clearance of 3 needs a second factor, so that account enrols TOTP."""
        otp = self.new_user(sec_token, name, roles=(role,), department=department,
                            clearance=clearance)
        if clearance < 3:
            return self.activate_user(name, otp)[0]
        token, _ = self.activate_user(name, otp, expect_stage="totp_enroll")
        self.enroll(token)
        return token

    def dataset(self, owner_token, sec_token, name, grade, schema, rows, **fields):
        """A dataset registered by owner_token, its grade confirmed by secadmin, and rows
        ({id: data}) written as records."""
        saved, self.purpose = self.purpose, "service"
        body = {"name": name, "title": name, "category": "census", "legal_basis": "Statistics Law",
                "retention_days": 3650, "expected_rows": len(rows), "schema": schema}
        body.update(fields)
        s, r = self.req("POST", "/v1/datasets", body, owner_token)
        assert s == 201, (s, r)
        s, r = self.req("POST", "/v1/datasets/%s/grade" % name, {"grade": grade, "reason": "x"},
                        sec_token)
        assert s == 200, (s, r)
        for rid, data in rows.items():
            s, r = self.req("POST", "/v1/datasets/%s/records" % name, {"id": rid, "data": data},
                            owner_token)
            assert s == 201, (s, r)
        self.purpose = saved

    def account(self, sec_token, name):
        s, r = self.req("GET", "/v1/accounts/" + name, token=sec_token)
        assert s == 200, (s, r)
        return r

    def grant(self, sec_token, dataset, subject, kind="role", actions=("read", "search", "export"),
              purposes=("e2e test",), profile=None, **fields):
        """A grant by secadmin (active unless the dataset is grade 3): the grant JSON."""
        body = {"dataset": dataset, "subject": {"type": kind, "name": subject},
                "actions": list(actions), "purposes": list(purposes), "valid_until": "2099-12-31",
                "reason": "e2e test"}
        if profile:
            body["mask_profile"] = profile
        body.update(fields)
        s, r = self.req("POST", "/v1/grants", body, sec_token)
        assert s == 201, (s, r)
        return r

    def clear_profile(self, sec_token, name="clear"):
        """A masking profile that keeps every value (for grants of full access)."""
        s, r = self.req("PUT", "/v1/mask-profiles/" + name,
                        {"description": "full access", "default": "keep", "free_text": "keep",
                         "rules": []}, sec_token)
        assert s == 200, (s, r)
        return name

    def audit(self, aud_token, **query):
        q = "&".join("%s=%s" % kv for kv in sorted(dict({"limit": 1000}, **query).items()))
        s, r, rh = self.call("GET", "/v1/audit?" + q, token=aud_token)
        assert s == 200, (s, r)
        return r["records"], rh


class DaemonTest(unittest.TestCase):
    """One daemon per test class.  `extra` is appended to the configuration."""
    extra = ""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(cls.extra)
        cls.addClassCleanup(cls.d.cleanup)
        cls.d.start()
        cls.addClassCleanup(cls._stop_daemon)

    @classmethod
    def _stop_daemon(cls):
        if cls.d.proc is None:
            return
        alive = cls.d.proc.poll() is None
        rc = cls.d.terminate()
        if not alive or rc != 0:
            raise AssertionError("govvaultd did not exit 0 on SIGTERM within 10 s (rc=%r); log:\n%s"
                                 % (rc, cls.d.daemon_log()[-4000:]))

    def assertError(self, result, status, code):
        s, r = result[0], result[1]
        self.assertEqual(s, status, r)
        self.assertEqual(r["error"]["code"], code, r)

    def assertHealthy(self):
        self.assertIsNone(self.d.proc.poll(), "govvaultd died:\n" + self.d.daemon_log()[-4000:])
        self.assertEqual(self.d.req("GET", "/v1/health")[0], 200)
