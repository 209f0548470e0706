"""Access restrictions: per-account address allowlists and time windows, per-role
restrictions; they apply at login and again on every request of a live session."""
import time
import unittest

from gvtest import DaemonTest

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
OFFSET_H = 8  # accounts.utc_offset default: +08:00


def local_now():
    return time.gmtime(time.time() + OFFSET_H * 3600)


def day(delta=0):
    return DAYS[(local_now().tm_wday + delta) % 7]


def hours_excluding_now():
    """A one-hour window on every day that certainly does not contain the local time."""
    h = local_now().tm_hour
    start = h + 2 if h + 3 <= 23 else h - 3
    return "* %02d:00-%02d:00" % (start, start + 1)


class AccessTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = cls.d.activate_admin("secadmin").token

    def patch(self, name, body):
        s, r = self.d.req("PATCH", "/v1/accounts/" + name, body, self.sec)
        self.assertEqual(s, 200, r)
        return r

    def test_account_ip_allowlist(self):
        d = self.d
        otp = d.new_user(self.sec, "gina", roles=("reviewer",), ip_allowlist=["10.0.0.0/8"])
        self.assertError(d.login("gina", otp), 403, "access_restricted")
        otp2 = d.new_user(self.sec, "hank", roles=("reviewer",), ip_allowlist=["127.0.0.0/8"])
        s, r = d.login("hank", otp2)
        self.assertEqual((s, r["stage"]), (200, "password_change"), r)
        r = self.patch("gina", {"ip_allowlist": ["192.168.0.0/16", "127.0.0.1", "::1"]})
        self.assertEqual(r["ip_allowlist"], ["192.168.0.0/16", "127.0.0.1", "::1"])
        token, pw = d.activate_user("gina", otp)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        # A narrowed allowlist applies to the live session's next request.
        self.patch("gina", {"ip_allowlist": ["10.0.0.0/8"]})
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 403, "access_restricted")
        self.assertError(d.login("gina", pw), 403, "access_restricted")
        self.patch("gina", {"ip_allowlist": []})
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        for bad in (["10.0.0.0/33"], ["not-an-ip"], [""], ["10.0.0.1,10.0.0.2"], "10.0.0.0/8", [5]):
            s, r = d.req("PATCH", "/v1/accounts/gina", {"ip_allowlist": bad}, self.sec)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), bad)

    def test_role_restrictions(self):
        d = self.d
        path = "/v1/roles/analyst/restrictions"
        self.addCleanup(d.req, "PUT", path, {}, self.sec)
        token, pw = d.user(self.sec, "ivor")  # an analyst
        other, _ = d.user(self.sec, "jana", roles=("reviewer",))
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        s, r = d.req("PUT", path, {"ip_allowlist": ["10.0.0.0/8"]}, self.sec)
        self.assertEqual((s, r), (200, {"role": "analyst", "ip_allowlist": ["10.0.0.0/8"],
                                        "time_windows": []}))
        s, roles = d.req("GET", "/v1/roles", token=self.sec)
        analyst = [x for x in roles["roles"] if x["role"] == "analyst"][0]
        self.assertEqual(analyst["ip_allowlist"], ["10.0.0.0/8"])
        # The analyst's live session is stopped on its next request; others are not.
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 403, "access_restricted")
        self.assertError(d.login("ivor", pw), 403, "access_restricted")
        self.assertEqual(d.req("GET", "/v1/auth/me", token=other)[0], 200)
        # Time windows of the role: now excluded, then included.
        s, r = d.req("PUT", path, {"time_windows": [hours_excluding_now()]}, self.sec)
        self.assertEqual(s, 200, r)
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 403, "access_restricted")
        s, r = d.req("PUT", path, {"ip_allowlist": ["127.0.0.0/8"],
                                   "time_windows": ["%s-%s 00:00-24:00" % (day(-1), day(1))]}, self.sec)
        self.assertEqual(s, 200, r)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        self.assertEqual(d.req("PUT", path, {}, self.sec)[0], 200)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        # Validation and authority.
        self.assertError(d.req("PUT", "/v1/roles/wizard/restrictions", {}, self.sec), 404, "not_found")
        for bad in ({"time_windows": ["someday"]}, {"ip_allowlist": ["300.1.1.1"]},
                    {"ip_allowlist": "10.0.0.0/8"}, {"colour": "red"}):
            self.assertError(d.req("PUT", path, bad, self.sec), 400, "invalid_request")
        self.assertError(d.req("PUT", path, {}, token), 403, "forbidden")
        self.assertError(d.req("GET", "/v1/roles", token=token), 403, "forbidden")

    def test_account_time_windows(self):
        d = self.d
        # Three days ahead cannot become "today" while the test runs.
        otp = d.new_user(self.sec, "kim", roles=("reviewer",),
                         time_windows=["%s 00:00-24:00" % day(3)])
        self.assertError(d.login("kim", otp), 403, "access_restricted")
        otp2 = d.new_user(self.sec, "lars", roles=("reviewer",), time_windows=[hours_excluding_now()])
        self.assertError(d.login("lars", otp2), 403, "access_restricted")
        self.patch("kim", {"time_windows": ["%s-%s 00:00-24:00" % (day(-1), day(1)), "%s 09:00-10:00" % day(3)]})
        token, pw = d.activate_user("kim", otp)
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        self.patch("kim", {"time_windows": ["* 00:00-24:00"]})
        self.assertEqual(d.req("GET", "/v1/auth/me", token=token)[0], 200)
        self.patch("kim", {"time_windows": ["%s 00:00-24:00" % day(3)]})
        self.assertError(d.req("GET", "/v1/auth/me", token=token), 403, "access_restricted")
        for bad in (["someday"], ["mon 25:00-26:00"], ["mon 08:00-08:00"], ["mon-fri"],
                    ["monday 08:00-18:00"], ["mon 8:00-18:00"]):
            s, r = d.req("PATCH", "/v1/accounts/kim", {"time_windows": bad}, self.sec)
            self.assertEqual((s, r["error"]["code"]), (400, "invalid_request"), bad)


if __name__ == "__main__":
    unittest.main()
