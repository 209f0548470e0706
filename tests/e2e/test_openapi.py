"""docs/api/openapi.yaml describes exactly the routes in src/http/router.c."""
import json
import os
import re
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


class OpenApiTest(unittest.TestCase):
    def test_routes_match(self):
        src = open(os.path.join(ROOT, "src/http/router.c")).read()
        routes = {(m.lower(), re.sub(r"\{\}", "{}", p))
                  for m, p in re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)", "(/v1/[^"]*)"', src)}
        text = open(os.path.join(ROOT, "docs/api/openapi.yaml")).read()
        doc = json.loads(text.split("\n", 1)[1])
        documented = {(m, re.sub(r"\{[^}]+\}", "{}", p)) for p, ops in doc["paths"].items() for m in ops}
        self.assertEqual(routes, documented)


if __name__ == "__main__":
    unittest.main()
