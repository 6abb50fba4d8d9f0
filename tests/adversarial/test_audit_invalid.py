"""A request the policy constrains, or of an audited class, is audited even
when it fails validation, with the validation error as its outcome."""
import json
import subprocess
import unittest

from harness import ARGUS_BIN, Server, create_key


class Key:
    def __init__(self, server, name, org_type, purpose):
        k = create_key(server.data_dir, name, org_type, purpose)
        self.server, self.ak, self.sk = server, k["AccessKeyId"], k["SecretAccessKey"]

    def post(self, op, body):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.server.post("RekognitionService." + op, data, access_key=self.ak,
                                secret_key=self.sk)


class AuditInvalid(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()  # moratorium-2020
        cls.cop = Key(cls.server, "city-police", "law_enforcement", "investigation")
        cls.lab = Key(cls.server, "lab", "research", "research")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def records(self, headers):
        rid = headers["x-amzn-RequestId"]
        out = subprocess.run([ARGUS_BIN, "audit", "export", "--format", "jsonl", "--data-dir",
                              self.server.data_dir], capture_output=True, text=True, timeout=60)
        return [r for r in (json.loads(l) for l in out.stdout.splitlines() if l.strip())
                if r["request_id"] == rid]

    def test_invalid_police_search_is_audited_with_its_validation_error(self):
        bad = [
            {"CollectionId": "people"},  # no Image
            {"CollectionId": "people", "Image": {"Bytes": "aGVsbG8="}, "FaceMatchThreshold": 150},
            {"CollectionId": "bad id!", "Image": {"Bytes": "aGVsbG8="}},
            "{not json",
        ]
        for body in bad:
            status, headers, out = self.cop.post("SearchFacesByImage", body)
            # The answer is the validation error, as before.
            self.assertEqual(status, 400, out)
            self.assertIn(out["__type"], ("InvalidParameterException", "ValidationException"), out)
            rs = self.records(headers)
            self.assertEqual(len(rs), 1, (body, out))
            self.assertEqual((rs[0]["principal"], rs[0]["decision"], rs[0]["outcome"]),
                             ("city-police", "deny", out["__type"]))
            self.assertEqual(rs[0]["op_class"], "face_identification_1toN")

    def test_invalid_search_of_an_allowed_principal_is_audited(self):
        status, headers, out = self.lab.post("SearchFaces", {"CollectionId": "people"})
        self.assertEqual(status, 400, out)
        rs = self.records(headers)
        self.assertEqual(len(rs), 1)
        self.assertEqual((rs[0]["decision"], rs[0]["outcome"]), ("allow", out["__type"]))

    def test_invalid_unconstrained_request_is_not_audited(self):
        status, headers, out = self.lab.post("DetectLabels", {"MaxLabels": 10})
        self.assertEqual(status, 400, out)
        self.assertEqual(self.records(headers), [])


if __name__ == "__main__":
    unittest.main()
