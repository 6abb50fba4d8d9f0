"""An enrolment is never stored without its audit record: the real server is
killed with SIGKILL at seeded random moments during IndexFaces calls, and
after each restart every face that ListFaces shows is accounted for by an
IndexFaces audit record (and every acknowledged request has its record)."""
import base64
import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, Server

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in (1, 2, 3)]
KILLS = 20
SEED = 20261204


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class Enroller(threading.Thread):
    """IndexFaces with a fresh ExternalImageId each time (so every face in an
    answer is new) until the server stops answering."""

    def __init__(self, server, images, counter, acked):
        super().__init__(daemon=True)
        self.server, self.images, self.counter, self.acked = server, images, counter, acked

    def run(self):
        while True:
            with self.counter["lock"]:
                self.counter["n"] += 1
                n = self.counter["n"]
            try:
                s, headers, out = self.server.post("RekognitionService.IndexFaces", json.dumps(
                    {"CollectionId": "enrol", "Image": {"Bytes": self.images[n % len(self.images)]},
                     "ExternalImageId": "e%d" % n, "MaxFaces": 1}))
            except Exception:
                return
            if s != 200:
                return
            rid = {k.lower(): v for k, v in headers.items()}.get("x-amzn-requestid")
            self.acked.append((rid, [r["Face"]["FaceId"] for r in out["FaceRecords"]]))


def audit_records(data_dir):
    out = subprocess.run([ARGUS_BIN, "audit", "export", "--data-dir", data_dir],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("argus audit export: " + out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


class EnrolmentAudit(unittest.TestCase):
    def list_faces(self, server):
        faces, token = [], None
        while True:
            body = {"CollectionId": "enrol", "MaxResults": 4096}
            if token:
                body["NextToken"] = token
            s, _, out = server.post("RekognitionService.ListFaces", json.dumps(body))
            self.assertEqual(s, 200, out)
            faces += out["Faces"]
            token = out.get("NextToken")
            if not token:
                return faces

    def test_no_enrolment_without_its_audit_record(self):
        images = [b64(p) for p in SAMPLES]
        rng = random.Random(SEED)
        server = Server()
        data_dir = server.data_dir
        s, _, out = server.post("RekognitionService.CreateCollection",
                                json.dumps({"CollectionId": "enrol"}))
        self.assertEqual(s, 200, out)
        counter = {"lock": threading.Lock(), "n": 0}
        acked = []
        t0 = time.time()
        for _ in range(KILLS):
            enrollers = [Enroller(server, images, counter, acked) for _ in range(2)]
            before = len(acked)
            for e in enrollers:
                e.start()
            # Once enrolments flow (the first request of a process sets up
            # its nets), at a seeded random moment among them.
            deadline = time.time() + 30
            while len(acked) == before and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
            server.proc.kill()
            server.proc.wait()
            for e in enrollers:
                e.join(timeout=60)
            keys = server.access_key, server.secret_key
            server = Server(data_dir=data_dir, issue_key=False)
            server.access_key, server.secret_key = keys
        faces = {f["FaceId"] for f in self.list_faces(server)}
        self.assertEqual(server.stop(), 0)
        print("%d kills in %.0f s: %d requests acknowledged, %d faces stored"
              % (KILLS, time.time() - t0, len(acked), len(faces)), file=sys.stderr)
        self.assertGreater(len(acked), 0)

        records = [r for r in audit_records(data_dir)
                   if r["operation"] == "IndexFaces" and r["outcome"] == "ok"]
        by_request = {r["request_id"]: r for r in records}
        for rid, face_ids in acked:
            self.assertIn(rid, by_request, "acknowledged IndexFaces without an audit record")
            self.assertEqual(by_request[rid]["matches"], len(face_ids))
            self.assertEqual(set(face_ids) - faces, set(), "acknowledged faces lost")
        # Every stored face came from a request with an audit record: the
        # records account for exactly the faces there are (each request's
        # faces are new, so a face without its record shows as a surplus).
        self.assertEqual(sum(r["matches"] or 0 for r in records), len(faces),
                         "faces stored without their IndexFaces audit record")
        verify = subprocess.run([ARGUS_BIN, "audit", "verify", "--data-dir", data_dir],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(verify.returncode, 0, verify.stderr)


if __name__ == "__main__":
    unittest.main()
