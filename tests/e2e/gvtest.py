"""Shared harness for the end-to-end tests: a temporary data directory, the real
govvaultd on a free loopback port, an HTTPS JSON client and RFC 6238 codes."""
import base64, hashlib, hmac, http.client, json, os, re, shutil, signal, socket
import ssl, struct, subprocess, tempfile, time, unittest

BIN = os.environ.get("GV_BIN", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret, step_offset=0, now=None):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((now or time.time()) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


class Daemon:
    def __init__(self, extra=""):
        self.dir = tempfile.mkdtemp(prefix="gve2e")
        self.port = free_port()
        self.data = os.path.join(self.dir, "data")
        extra_path = os.path.join(self.dir, "extra.conf")
        with open(extra_path, "w") as f:
            f.write("[server]\nport = %d\n[password]\nargon2_memory_kib = 1024\n"
                    "argon2_iterations = 1\n%s\n" % (self.port, extra))
        out = subprocess.run([os.path.join(BIN, "govvault"), "init", "--data", self.data,
                              "--config-extra", extra_path],
                             capture_output=True, text=True, check=True).stdout
        self.init_output = out
        self.otp = dict(re.findall(r"^\s+(\w+)\s+\(\w+\s*\)\s+(\S+)$", out, re.M))
        self.conf = os.path.join(self.data, "govvault.conf")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "daemon.log"), "w")
        self.proc = subprocess.Popen([os.path.join(BIN, "govvaultd"), "--config", self.conf,
                                      "--foreground"], stderr=self.log, stdout=self.log)
        for _ in range(100):
            try:
                if self.req("GET", "/v1/health")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("daemon did not start: " + open(self.log.name).read())

    def stop(self):
        rc = None
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            rc = self.proc.wait(15)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.data, "tls/cert.pem"))
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def raw(self, method, path, body=None, headers=None, ctx=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx or self.context(),
                                        timeout=30)
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def req(self, method, path, body=None, token=None, ctx=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        if token:
            headers["Authorization"] = "Bearer " + token
        status, hdrs, data = self.raw(method, path, body, headers, ctx)
        doc = json.loads(data) if data else None
        if isinstance(doc, dict) and "error" in doc:
            assert doc["error"]["request_id"] == hdrs["X-Request-Id"]
        return status, doc

    def login(self, user, password, ctx=None):
        return self.req("POST", "/v1/auth/login", {"username": user, "password": password}, ctx=ctx)

    def activate_admin(self, name):
        """First login of an initial administrator: change + TOTP enrolment."""
        s, r = self.login(name, self.otp[name])
        assert s == 200 and r["stage"] == "password_change", r
        token, password = r["token"], "Vault-" + name[::-1] + "-2026!"
        s, r = self.req("POST", "/v1/auth/password",
                        {"current_password": self.otp[name], "new_password": password}, token)
        assert s == 200 and r["stage"] == "totp_enroll", r
        s, r = self.req("POST", "/v1/auth/totp/enroll", {}, token)
        assert s == 200 and len(r["recovery_codes"]) == 10, r
        secret = re.search(r"secret=([A-Z2-7]+)", r["otpauth_uri"]).group(1)
        s, r2 = self.req("POST", "/v1/auth/totp/confirm", {"code": totp(secret)}, token)
        assert s == 200 and r2["stage"] == "active", r2
        return token, password, secret, r["recovery_codes"]

    def new_user(self, sec_token, name, roles=("analyst",), **fields):
        """Application, approval and first password change of a business account."""
        body = {"username": name, "full_name": "User " + name, "department": "Statistics",
                "contact": name + "@example.gov", "roles": list(roles)}
        body.update(fields)
        s, r = self.req("POST", "/v1/accounts", body, sec_token)
        assert s == 201 and r["status"] == "pending", r
        s, r = self.req("POST", "/v1/accounts/%s/approve" % name, None, sec_token)
        assert s == 200, r
        return r["one_time_password"]

    def activate_user(self, name, otp, password=None, ctx=None):
        password = password or "Pw-" + name[::-1] + "-2026x!"
        s, r = self.login(name, otp, ctx)
        assert s == 200 and r["stage"] == "password_change", r
        s, r2 = self.req("POST", "/v1/auth/password",
                         {"current_password": otp, "new_password": password}, r["token"], ctx)
        assert s == 200, r2
        return r["token"], password


class DaemonTest(unittest.TestCase):
    extra = ""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(cls.extra).start()

    @classmethod
    def tearDownClass(cls):
        assert cls.d.stop() == 0, "govvaultd did not exit cleanly"
