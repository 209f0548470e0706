"""Device binding: an account bound to a client-certificate fingerprint logs in only
from a TLS connection presenting that certificate."""
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
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    der = ssl.PEM_cert_to_DER_cert(open(cert).read())
    return cert, key, hashlib.sha256(der).hexdigest()


class DeviceTest(DaemonTest):
    def test_binding(self):
        d = self.d
        sec = d.activate_admin("secadmin")[0]
        cert, key, fp = make_cert(d.dir, "laptop")
        other_cert, other_key, _ = make_cert(d.dir, "other")
        otp = d.new_user(sec, "lena", device_fingerprints=[fp])
        s, r = d.login("lena", otp)
        self.assertEqual((s, r["error"]["code"]), (403, "access_restricted"))
        s, r = d.login("lena", otp, ctx=d.context(other_cert, other_key))
        self.assertEqual(s, 403)
        good = d.context(cert, key)
        token, pw = d.activate_user("lena", otp, ctx=good)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token, ctx=good)[0], 200)
        # The token alone, without the bound certificate, is refused.
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 403)
        s, r = d.req("GET", "/v1/sessions", token=sec)
        fps = [x["device_fingerprint"] for x in r["sessions"] if x["username"] == "lena"]
        self.assertEqual(fps, [fp])


if __name__ == "__main__":
    unittest.main()
