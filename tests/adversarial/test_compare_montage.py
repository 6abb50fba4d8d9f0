"""CompareFaces against a montage is identification: a target image with
more than one face is decided and audited as face_identification_1toN, so a
key whose policy forbids 1:N search cannot run it through 1:1 verification."""
import base64
import json
import os
import subprocess
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, create_key

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in range(1, 7)]
MONTAGE = SAMPLES[0]  # three women


def image(path):
    with open(path, "rb") as f:
        return {"Bytes": base64.b64encode(f.read()).decode()}


class Key:
    def __init__(self, server, name, org_type, purpose):
        k = create_key(server.data_dir, name, org_type, purpose)
        self.server, self.ak, self.sk = server, k["AccessKeyId"], k["SecretAccessKey"]

    def call(self, op, body):
        return self.server.post("RekognitionService." + op, json.dumps(body), access_key=self.ak,
                                secret_key=self.sk)

    def compare(self, target, threshold=0):
        return self.call("CompareFaces", {"SourceImage": image(MONTAGE), "TargetImage": image(target),
                                          "SimilarityThreshold": threshold})


class CompareMontage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()  # moratorium-2020
        cls.cop = Key(cls.server, "city-police", "law_enforcement", "investigation")
        cls.lab = Key(cls.server, "lab", "research", "research")
        cls.county = Key(cls.server, "county", "government", "investigation")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def record(self, headers):
        rid = headers["x-amzn-RequestId"]
        out = subprocess.run([ARGUS_BIN, "audit", "export", "--format", "jsonl", "--data-dir",
                              self.server.data_dir], capture_output=True, text=True, timeout=60)
        rs = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        rs = [r for r in rs if r["request_id"] == rid]
        self.assertEqual(len(rs), 1, rid)
        return rs[0]

    def test_law_enforcement_montage_is_identification_and_denied(self):
        status, headers, out = self.cop.compare(MONTAGE)
        self.assertEqual((status, out.get("__type")), (400, "AccessDeniedException"), out)
        self.assertIn("law-enforcement-no-identification", out["message"])
        self.assertIn("face_identification_1toN", out["message"])
        self.assertNotIn("FaceMatches", out)
        r = self.record(headers)
        self.assertEqual((r["op_class"], r["decision"], r["outcome"]),
                         ("face_identification_1toN", "deny", "AccessDeniedException"))

    def test_one_face_target_stays_verification(self):
        single = None
        for path in SAMPLES:
            status, _, out = self.lab.call("DetectFaces", {"Image": image(path)})
            if status == 200 and len(out["FaceDetails"]) == 1:
                single = path
                break
        if single is None:
            self.skipTest("no single-face demo image")
        status, headers, out = self.cop.compare(single)
        self.assertEqual(status, 200, out)
        r = self.record(headers)
        self.assertEqual((r["op_class"], r["decision"]), ("face_verification_1to1", "allow"))

    def test_montage_allowed_as_identification_is_audited_as_such(self):
        status, headers, out = self.lab.compare(MONTAGE)
        self.assertEqual(status, 200, out)
        self.assertEqual(len(out["FaceMatches"]), 3)
        r = self.record(headers)
        self.assertEqual((r["op_class"], r["decision"], r["matches"]),
                         ("face_identification_1toN", "allow", 3))

    def test_identification_floor_applies_to_a_montage(self):
        # Public-safety identification gets the 99 floor: the other women
        # (well under 99) become unmatched faces.
        status, headers, out = self.county.compare(MONTAGE)
        self.assertEqual(status, 200, out)
        self.assertTrue(all(m["Similarity"] >= 99 for m in out["FaceMatches"]), out["FaceMatches"])
        self.assertEqual(len(out["FaceMatches"]) + len(out["UnmatchedFaces"]), 3)
        self.assertGreaterEqual(len(out["UnmatchedFaces"]), 1)
        r = self.record(headers)
        self.assertEqual((r["op_class"], r["threshold_asked"], r["threshold_applied"]),
                         ("face_identification_1toN", 0, 99))
        self.assertEqual(r["matches"], len(out["FaceMatches"]))


if __name__ == "__main__":
    unittest.main()
