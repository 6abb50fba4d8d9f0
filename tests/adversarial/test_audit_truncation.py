"""The audit log's head is anchored outside the database
(DATA_DIR/audit-head.log, HMAC-keyed): deleting the last records and lowering
the sequence, or rewriting the last record with a consistent hash, used to
pass `argus audit verify`; now they fail, as does a missing or altered anchor,
while a crash's one unanchored record and a torn anchor line still verify."""
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, temp_dir

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")
CANONICAL = ["seq", "time_ms", "kind", "request_id", "principal", "org_type", "purpose",
             "case_id", "authorisation", "operation", "op_class", "collection", "decision",
             "rule", "threshold_asked", "threshold_applied", "max_results", "human_review",
             "matches", "top_similarity", "outcome", "detail", "prev_hash"]


def audit_hash(record):
    body = {k: record[k] for k in CANONICAL}
    return hashlib.sha256(("argus-audit-v1\n" + json.dumps(body, sort_keys=True,
                                                           separators=(",", ":"))).encode()
                          ).hexdigest()


def argus(*args):
    return subprocess.run([ARGUS_BIN, *args], capture_output=True, text=True, timeout=60)


class AuditTruncation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        server = Server()
        with open(SAMPLE, "rb") as f:
            image = {"Bytes": base64.b64encode(f.read()).decode()}
        calls = [("CreateCollection", {"CollectionId": "t"})]
        calls += [("IndexFaces", {"CollectionId": "t", "Image": image, "ExternalImageId": "x%d" % i})
                  for i in range(3)]
        calls += [("SearchFacesByImage", {"CollectionId": "t", "Image": image})] * 2
        for op, body in calls:
            s, _, out = server.post("RekognitionService." + op, json.dumps(body))
            assert s == 200, (op, out)
        assert server.stop() == 0
        cls.src = server.data_dir
        cls.records = [json.loads(l) for l in argus("audit", "export", "--data-dir",
                                                    cls.src).stdout.splitlines()]
        assert len(cls.records) >= 6, cls.records

    def copy(self):
        d = os.path.join(temp_dir("argus-tamper-"), "data")
        shutil.copytree(self.src, d)
        return d

    def verify(self, d):
        return argus("audit", "verify", "--data-dir", d)

    def sql(self, d, script):
        db = sqlite3.connect(os.path.join(d, "argus.db"))
        db.executescript(script)
        db.commit()
        db.close()

    def assertBroken(self, out, words):
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("BROKEN", out.stderr)
        self.assertIn(words, out.stderr)

    def test_untouched_log_verifies(self):
        out = self.verify(self.copy())
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("verified: %d records" % len(self.records), out.stdout)

    def test_cut_back_log_with_lowered_sequence_fails(self):
        d = self.copy()
        n = len(self.records)
        self.sql(d, "DELETE FROM audit_log WHERE seq > %d; "
                    "UPDATE sqlite_sequence SET seq = %d WHERE name = 'audit_log';" % (n - 2, n - 2))
        self.assertBroken(self.verify(d), "cut back")

    def test_emptied_log_fails(self):
        d = self.copy()
        self.sql(d, "DELETE FROM audit_log; DELETE FROM sqlite_sequence WHERE name = 'audit_log';")
        self.assertBroken(self.verify(d), "cut back")

    def test_rewritten_last_record_with_consistent_hash_fails(self):
        last = dict(self.records[-1])
        self.assertEqual(audit_hash(last), last["hash"], "the test's hash is not argus's")
        last["decision"] = "deny"
        forged = audit_hash(last)
        d = self.copy()
        self.sql(d, "UPDATE audit_log SET decision = 'deny', hash = '%s' WHERE seq = %d"
                 % (forged, last["seq"]))
        self.assertBroken(self.verify(d), "rewritten")

    def test_missing_anchor_fails(self):
        d = self.copy()
        os.unlink(os.path.join(d, "audit-head.log"))
        self.assertBroken(self.verify(d), "missing")

    def test_altered_anchor_fails(self):
        d = self.copy()
        path = os.path.join(d, "audit-head.log")
        with open(path) as f:
            lines = f.read().splitlines()
        seq, h, mac = lines[-1].split()
        lines[-1] = "%d %s %s" % (int(seq) - 1, h, mac)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.assertBroken(self.verify(d), "not an authentic anchor")

    def test_crash_lag_of_one_record_and_torn_line_verify(self):
        d = self.copy()
        path = os.path.join(d, "audit-head.log")
        with open(path) as f:
            lines = f.read().splitlines()
        # The anchor append of the last record was cut by a crash mid-line.
        with open(path, "w") as f:
            f.write("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
        out = self.verify(d)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("not anchored yet", out.stderr)
        # Two records past the anchor are not a crash's lag.
        with open(path, "w") as f:
            f.write("\n".join(lines[:-2]) + "\n")
        self.assertBroken(self.verify(d), "not anchored")

    def test_restart_completes_the_anchor_and_appends(self):
        d = self.copy()
        path = os.path.join(d, "audit-head.log")
        with open(path) as f:
            lines = f.read().splitlines()
        with open(path, "w") as f:
            f.write("\n".join(lines[:-1]) + "\n")
        server = Server(data_dir=d)
        self.assertEqual(server.stop(), 0)
        out = self.verify(d)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn("note:", out.stderr)
        self.assertIn("verified: %d records" % (len(self.records) + 1), out.stdout)


if __name__ == "__main__":
    unittest.main()
