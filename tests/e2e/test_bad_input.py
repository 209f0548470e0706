"""Malformed and hostile requests get a precise 4xx with the standard error body, and
the daemon keeps serving after each of them."""
import json
import socket
import ssl
import unittest
import warnings

from gvtest import DaemonTest

JSON = {"Content-Type": "application/json"}
LOGIN = "/v1/auth/login"


class BadInputTest(DaemonTest):
    extra = "[server]\nmax_body_bytes = 4096\nmax_json_depth = 8\nmax_header_bytes = 4096\n"

    def check(self, method, path, body, headers, status, code, message_part=None):
        s, h, data = self.d.raw(method, path, body, headers)
        what = (method, path[:60], body[:60] if body else body, {k: v[:40] for k, v in headers.items()})
        self.assertEqual(s, status, (what, data[:200]))
        self.assertIn("X-Request-Id", h, what)
        self.assertTrue(h.get("Content-Type", "").startswith("application/json"), (what, h))
        doc = json.loads(data)
        self.assertEqual(set(doc), {"error"}, data)
        self.assertEqual(doc["error"]["code"], code, (what, doc))
        self.assertTrue(doc["error"]["message"], doc)
        self.assertEqual(doc["error"]["request_id"], h["X-Request-Id"])
        if message_part:
            self.assertIn(message_part, doc["error"]["message"])
        self.assertHealthy()
        return h

    def test_invalid_json_bodies(self):
        bad = [
            b'{"username": "a", ',                                  # truncated
            b'{username: "a", "password": "b"}',                    # not JSON
            b'{"username": 5, "password": "x"}',                    # wrong type
            b'{"username": ["a"], "password": "x"}',
            b'{"username": null, "password": "x"}',
            b'{"username": "a", "password": "b", "extra": 1}',      # unknown field
            b'{"username": "\xff\xfe", "password": "b"}',           # invalid UTF-8
            b'{"username": "\xc0\xaf", "password": "b"}',           # overlong encoding
            b'{"username": "a\\u0000b", "password": "b"}',         # NUL
            b'{"username": "a\\u0007b", "password": "b"}',         # control character
            b'{"username": "a", "username": "b", "password": "c"}',  # duplicate key
            b'[1, 2]',                                              # not an object
            b'"text"',
            b'{}',                                                  # missing fields
            b'{"username": "a", "password": "b"} trailing',
            b'{"username": "' + b"a" * 65 + b'", "password": "b"}',  # longer than 64
            b'{"username": "a", "password": "' + b"p" * 300 + b'"}',  # longer than 256
        ]
        for body in bad:
            self.check("POST", LOGIN, body, JSON, 400, "invalid_request")

    def test_json_nesting_limit(self):
        deep = b'{"a":' * 20 + b'1' + b'}' * 20
        self.check("POST", LOGIN, deep, JSON, 400, "invalid_request", "nesting")
        deep_array = b'{"username": ' + b'[' * 30 + b']' * 30 + b', "password": "b"}'
        self.check("POST", LOGIN, deep_array, JSON, 400, "invalid_request", "nesting")
        # Exactly at the limit: parsed, then refused for the field type instead.
        at_limit = b'{"username": ' + b'[' * 7 + b']' * 7 + b', "password": "b"}'
        h = self.check("POST", LOGIN, at_limit, JSON, 400, "invalid_request", "username")
        # Brackets inside strings are not nesting.
        s, h, data = self.d.raw("POST", LOGIN, b'{"username": "[[[[[[[[[[[[", "password": "{{{{{{{{{{{"}', JSON)
        self.assertEqual(s, 401, data)

    def test_body_size_limit(self):
        big = b'{"username": "' + b'a' * 8000 + b'", "password": "b"}'
        self.check("POST", LOGIN, big, JSON, 413, "too_large")
        # Declared but never sent: answered at once without reading the upload.
        c = self.d.connect(timeout=10)
        c.putrequest("POST", LOGIN)
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", "1000000000")
        c.endheaders()
        r = c.getresponse()
        self.assertEqual(r.status, 413)
        self.assertEqual(json.loads(r.read())["error"]["code"], "too_large")
        c.close()
        self.assertHealthy()

    def test_chunked_body_size_limit(self):
        c = self.d.connect(timeout=10)
        c.putrequest("POST", LOGIN)
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        chunk = b"a" * 1000
        status = None
        try:
            for _ in range(10):
                c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            c.send(b"0\r\n\r\n")
            r = c.getresponse()
            status = r.status
            self.assertEqual(json.loads(r.read())["error"]["code"], "too_large")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close once the limit is passed
        finally:
            c.close()
        self.assertIn(status, (413, None))
        self.assertHealthy()

    def test_header_size_limit(self):
        self.check("GET", "/v1/health", None, {"X-Filler": "y" * 6000}, 431, "too_large")
        self.check("GET", "/v1/health", None, {"X-A%d" % i: "y" * 100 for i in range(50)}, 431, "too_large")

    def test_very_large_headers_get_the_json_error_too(self):
        """Headers far beyond max_header_bytes (here 64 KiB) must still get the JSON 431
        with a request id, like headers just over it."""
        self.check("GET", "/v1/health", None, {"X-Filler": "y" * 65536}, 431, "too_large")

    def test_long_query_string_counts_as_request_line(self):
        """max_header_bytes covers the request line; the query string is part of it."""
        self.check("GET", "/v1/health?pad=" + "q" * 6000, None, {}, 431, "too_large")

    def test_routing_errors(self):
        # "%00" is not decoded: a NUL would cut the path (this once answered /v1/health).
        for path in ("/v1/nowhere", "/", "/v1/accounts/", "/v1/accounts/a/b/c", "/v2/health",
                     "/v1/health/", "/v1/roles/analyst", "/v1/health%00x", "/v1/health%00"):
            self.check("GET", path, None, {}, 404, "not_found")
        self.assertEqual(self.d.raw("GET", "/v1/he%61lth")[0], 200)   # other escapes decode
        for method, path in (("DELETE", "/v1/health"), ("PUT", LOGIN), ("GET", LOGIN),
                             ("POST", "/v1/accounts/anna"), ("PATCH", "/v1/sessions")):
            self.check(method, path, None, {}, 405, "invalid_request")

    def test_405_names_the_allowed_methods(self):
        h = self.check("DELETE", "/v1/health", None, {}, 405, "invalid_request")
        self.assertIn("Allow", h, "RFC 9110 15.5.6: a 405 response must carry an Allow header")
        self.assertIn("GET", h["Allow"])

    def test_content_type(self):
        body = b'{"username": "a", "password": "b"}'
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            self.check("POST", LOGIN, body, {"Content-Type": ctype}, 415, "invalid_request")
        self.check("POST", LOGIN, body, {}, 415, "invalid_request")
        s, h, data = self.d.raw("POST", LOGIN, body, {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(s, 401, data)

    def test_content_type_must_be_json_not_a_prefix(self):
        body = b'{"username": "a", "password": "b"}'
        for ctype in ("application/jsonx", "application/json-seq", "application/json5"):
            self.check("POST", LOGIN, body, {"Content-Type": ctype}, 415, "invalid_request")

    def test_authentication_before_body(self):
        self.check("GET", "/v1/accounts", None, {}, 401, "unauthenticated")
        self.check("POST", "/v1/accounts", b"{not json", JSON, 401, "unauthenticated")
        self.check("GET", "/v1/accounts", None, {"Authorization": "Bearer nonsense"}, 401, "unauthenticated")

    def test_transport_garbage(self):
        # Plain HTTP to the TLS port, and random bytes: the connection fails, nothing else.
        for payload in (b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\x05hello" * 10,
                        b"\x00" * 1024):
            with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
                try:
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)  # EOF: the server must not wait for more
                    s.recv(1024)
                except OSError:
                    pass
            self.assertHealthy()
        # A TLS connection that sends a broken HTTP request line.
        ctx = self.d.context()
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"BLAH\r\n\r\n")
                try:
                    s.recv(1024)
                except (OSError, ssl.SSLError):
                    pass
        self.assertHealthy()

    def test_tls_protocol_versions(self):
        """TLS 1.2 and 1.3 only; the client side is opened up so that the refusal is
        the server's."""
        for version, accepted in (("TLSv1", False), ("TLSv1_1", False), ("TLSv1_2", True),
                                  ("TLSv1_3", True)):
            ctx = self.d.context()
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
            try:
                with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as raw:
                    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                        got = s.version()
            except (ssl.SSLError, OSError):
                got = None
            if accepted:
                self.assertEqual(got, version.replace("_", "."), version)
            else:
                self.assertIsNone(got, version)
        self.assertHealthy()


if __name__ == "__main__":
    unittest.main()
