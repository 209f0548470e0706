"""Device binding: an account bound to client-certificate fingerprints logs in only over
a TLS connection presenting one of those certificates, and its sessions stay pinned to
the certificate used at login."""
import hashlib
import os
import ssl
import subprocess
import unittest

from gvtest import DaemonTest


def make_cert(directory, name):
    key, cert = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=" + name,
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, hashlib.sha256(der).hexdigest()


class DeviceTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = cls.d.activate_admin("secadmin").token
        cls.laptop = make_cert(cls.d.dir, "laptop")
        cls.other = make_cert(cls.d.dir, "other")

    def test_login_requires_the_bound_certificate(self):
        d = self.d
        cert, key, fp = self.laptop
        good, bad = d.context(cert, key), d.context(*self.other[:2])
        otp = d.new_user(self.sec, "lena", device_fingerprints=[fp])
        self.assertEqual(d.account(self.sec, "lena")["device_fingerprints"], [fp])
        self.assertError(d.login("lena", otp), 403, "access_restricted")
        self.assertError(d.login("lena", otp, ctx=bad), 403, "access_restricted")
        token, pw = d.activate_user("lena", otp, ctx=good)
        s, me = d.req("GET", "/v1/auth/me", token=token, ctx=good)
        self.assertEqual((s, me["stage"]), (200, "active"))
        # The token alone, or with another certificate, is refused.
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 403, "access_restricted")
        self.assertError(d.req("GET", "/v1/auth/me", token=token, ctx=bad), 403, "access_restricted")
        self.assertError(d.login("lena", pw), 403, "access_restricted")
        s, r = d.req("GET", "/v1/sessions", token=self.sec)
        self.assertEqual([x["device_fingerprint"] for x in r["sessions"] if x["username"] == "lena"],
                         [fp])
        # A second bound device works for a new login; the old session stays pinned.
        s, r = d.req("PATCH", "/v1/accounts/lena", {"device_fingerprints": [fp, self.other[2]]}, self.sec)
        self.assertEqual(s, 200, r)
        s, r = d.login("lena", pw, ctx=bad)
        self.assertEqual((s, r["stage"]), (200, "active"), r)
        self.assertError(d.req("GET", "/v1/auth/me", token=token, ctx=bad), 403, "access_restricted")
        self.assertEqual(d.req("GET", "/v1/auth/me", token=r["token"], ctx=bad)[0], 200)

    def test_unbound_accounts_accept_any_or_no_certificate(self):
        d = self.d
        token, pw = d.user(self.sec, "mark")
        self.assertEqual(d.login("mark", pw, ctx=d.context(*self.laptop[:2]))[0], 200)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)

    def test_fingerprints_are_validated(self):
        d = self.d
        fp = self.laptop[2]
        for bad in ([fp.upper()], [fp[:-1]], ["zz" * 32], ["sha256:" + fp]):
            s, r = d.apply(self.sec, "nils", device_fingerprints=bad)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), bad)


if __name__ == "__main__":
    unittest.main()
