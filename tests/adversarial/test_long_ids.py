"""Collection ids are client input: none may become a file name unchecked.
A 255-character id (valid for Rekognition) once made every later start of
the server, and `argus collections`, abort with "File name too long"."""
import base64
import json
import os
import re
import subprocess
import time
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, Server

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")
ALLOWED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
IDS = [
    "a" * 255,
    (ALLOWED * 4)[:255],
    ".",
    "..",
    "-rf",
    "_.-",
    ALLOWED,
]


def image():
    with open(SAMPLE, "rb") as f:
        return {"Bytes": base64.b64encode(f.read()).decode()}


class LongIds(unittest.TestCase):
    def call(self, server, op, body):
        status, _, out = server.post("RekognitionService." + op, json.dumps(body))
        self.assertEqual(status, 200, (op, body.get("CollectionId", "")[:20], out))
        return out

    def test_long_and_odd_ids_survive_restart_and_cli(self):
        # A graph index from the first face on, so stopping writes snapshots.
        server = Server("--hnsw-threshold", "1", "--snapshot-interval", "1")
        data_dir = server.data_dir
        key = server.access_key, server.secret_key  # the collections' owner
        for cid in IDS:
            self.call(server, "CreateCollection", {"CollectionId": cid})
        for cid in IDS[:2]:
            for ext in ("one", "two"):
                self.call(server, "IndexFaces", {"CollectionId": cid, "Image": image(), "MaxFaces": 1,
                                                 "ExternalImageId": ext})
        time.sleep(3)  # the background rebuild and snapshot
        self.assertEqual(server.stop(), 0, server.logs())
        index_dir = os.path.join(data_dir, "index")
        names = os.listdir(index_dir)
        self.assertTrue(names, "no snapshot was written")
        for name in names:
            self.assertRegex(name, r"^[0-9a-f]{64}\.idx$")
        # A snapshot file named after an id, as older versions wrote them, is removed.
        stale = os.path.join(index_dir, "_.-.idx")
        with open(stale, "wb") as f:
            f.write(b"not a snapshot")

        server = Server("--hnsw-threshold", "1", data_dir=data_dir, issue_key=False)
        server.access_key, server.secret_key = key
        self.assertFalse(os.path.exists(stale))
        listed, token = [], None
        while True:
            body = {"MaxResults": 3}
            if token:
                body["NextToken"] = token
            out = self.call(server, "ListCollections", body)
            listed += out["CollectionIds"]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(listed), sorted(IDS))
        for cid in IDS[:2]:
            faces = self.call(server, "ListFaces", {"CollectionId": cid})["Faces"]
            self.assertEqual(len(faces), 2)
            matches = self.call(server, "SearchFaces", {"CollectionId": cid,
                                                         "FaceId": faces[0]["FaceId"]})
            self.assertEqual(len(matches["FaceMatches"]), 1)
        self.call(server, "DeleteCollection", {"CollectionId": IDS[0]})
        self.assertEqual(server.stop(), 0, server.logs())

        out = subprocess.run([ARGUS_BIN, "collections", "list", "--data-dir", data_dir,
                              "--model-dir", MODEL_DIR], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(sorted(json.loads(out.stdout)["CollectionIds"]), sorted(IDS[1:]))
        out = subprocess.run([ARGUS_BIN, "collections", "describe", IDS[1], "--data-dir",
                              data_dir, "--model-dir", MODEL_DIR], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["FaceCount"], 2)


if __name__ == "__main__":
    unittest.main()
