"""Malformed and hostile requests get a clear 4xx and the daemon keeps serving."""
import json
import unittest

from gvtest import DaemonTest

JSON = {"Content-Type": "application/json"}


class BadInputTest(DaemonTest):
    extra = "[server]\nmax_body_bytes = 4096\nmax_json_depth = 8\nmax_header_bytes = 4096\n"

    def check(self, method, path, body, headers, status, code):
        s, h, data = self.d.raw(method, path, body, headers)
        self.assertEqual(s, status, data)
        if code:
            doc = json.loads(data)
            self.assertEqual(doc["error"]["code"], code)
            self.assertTrue(doc["error"]["message"])
            self.assertEqual(doc["error"]["request_id"], h["X-Request-Id"])
        self.assertEqual(self.d.req("GET", "/v1/health")[0], 200)

    def test_cases(self):
        login = "/v1/auth/login"
        self.check("POST", login, b'{"username": "a", ', JSON, 400, "invalid_request")
        self.check("POST", login, b'{"username": 5, "password": "x"}', JSON, 400, "invalid_request")
        self.check("POST", login, b'{"username": "a", "password": "b", "extra": 1}', JSON, 400,
                   "invalid_request")
        self.check("POST", login, b'{"username": "\xff\xfe", "password": "b"}', JSON, 400,
                   "invalid_request")
        self.check("POST", login, b'{"username": "a\\u0000b", "password": "b"}', JSON, 400,
                   "invalid_request")
        self.check("POST", login, b'{"username": "a", "username": "b", "password": "c"}', JSON, 400,
                   "invalid_request")
        self.check("POST", login, b'[1, 2]', JSON, 400, "invalid_request")
        self.check("POST", login, b'{"a":' * 20 + b'1' + b'}' * 20, JSON, 400, "invalid_request")
        self.check("POST", login, b'{"username": "' + b'a' * 8000 + b'"}', JSON, 413, "too_large")
        self.check("POST", login, b'{"username": "a", "password": "b"}',
                   {"Content-Type": "text/plain"}, 415, "invalid_request")
        self.check("GET", "/v1/health", None, {"X-Filler": "y" * 6000}, 431, "too_large")
        self.check("GET", "/v1/nowhere", None, {}, 404, "not_found")
        self.check("DELETE", "/v1/health", None, {}, 405, "invalid_request")
        self.check("GET", "/v1/accounts", None, {}, 401, "unauthenticated")
        self.check("GET", "/v1/accounts", None, {"Authorization": "Bearer nonsense"}, 401,
                   "unauthenticated")

    def test_chunked_oversize_body(self):
        import http.client
        c = http.client.HTTPSConnection("127.0.0.1", self.d.port, context=self.d.context())
        c.putrequest("POST", "/v1/auth/login")
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        chunk = b"a" * 1000
        try:
            for _ in range(10):
                c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            c.send(b"0\r\n\r\n")
            r = c.getresponse()
            self.assertEqual(r.status, 413)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertEqual(self.d.req("GET", "/v1/health")[0], 200)


if __name__ == "__main__":
    unittest.main()
