"""Crash safety: the real server is killed with SIGKILL during a stream of
IndexFaces and DeleteFaces; after a restart every acknowledged write is there
(or gone, for deletions) and the index agrees with the store."""
import base64
import json
import os
import random
import sys
import threading
import time
import unittest

from harness import FACEAPI_DEMO, Server

# The kill times come from this seed (printed by the test); ARGUS_CRASH_SEED=N
# replays a failed run's schedule.
SEED = int(os.environ.get("ARGUS_CRASH_SEED", "1"))

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in (1, 2, 3)]


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class Writer(threading.Thread):
    """IndexFaces with fresh ExternalImageIds, and now and then DeleteFaces of an
    acknowledged face, until the server stops answering."""

    def __init__(self, server, images, state, start_at):
        super().__init__(daemon=True)
        self.server, self.images, self.state, self.i = server, images, state, start_at

    def run(self):
        rng = random.Random(self.i)
        while True:
            self.i += 1
            try:
                if self.i % 3 == 0 and self.state["live"]:
                    victim = rng.choice(sorted(self.state["live"]))
                    self.state["pending_delete"].add(victim)
                    s, _, out = self.server.post("RekognitionService.DeleteFaces",
                                                 json.dumps({"CollectionId": "crash",
                                                             "FaceIds": [victim]}))
                    if s != 200:
                        return
                    for fid in out["DeletedFaces"]:
                        self.state["live"].discard(fid)
                        self.state["deleted"].add(fid)
                    continue
                k = self.i % len(self.images)
                s, _, out = self.server.post("RekognitionService.IndexFaces", json.dumps(
                    {"CollectionId": "crash", "Image": {"Bytes": self.images[k]},
                     "ExternalImageId": "w%d" % self.i}))
                if s != 200:
                    return
                recs = out["FaceRecords"]
                for r in recs:
                    self.state["live"].add(r["Face"]["FaceId"])
                if recs:
                    self.state["largest"][k] = (recs[0]["Face"]["ImageId"],
                                                recs[0]["Face"]["BoundingBox"])
                self.state["acks"] += 1
            except OSError:
                return  # the server is gone


def near(a, b):
    return all(abs(a[k] - b[k]) < 1e-3 for k in ("Left", "Top", "Width", "Height"))


class CrashTest(unittest.TestCase):
    def check(self, server, state):
        post = lambda op, **b: server.post("RekognitionService." + op, json.dumps(b))
        listed, token = [], None
        while True:
            body = {"CollectionId": "crash", "MaxResults": 100}
            if token:
                body["NextToken"] = token
            s, _, out = post("ListFaces", **body)
            self.assertEqual(s, 200, out)
            listed += out["Faces"]
            token = out.get("NextToken")
            if not token:
                break
        ids = {f["FaceId"] for f in listed}
        self.assertEqual(len(ids), len(listed))
        missing = state["live"] - ids - state["pending_delete"]
        self.assertFalse(missing, "acknowledged IndexFaces lost by the crash")
        self.assertFalse(state["deleted"] & ids, "acknowledged DeleteFaces undone by the crash")
        s, _, out = post("DescribeCollection", CollectionId="crash")
        self.assertEqual(out["FaceCount"], len(listed))
        # The index agrees with the store: each photo's largest face finds exactly
        # its stored copies (identical descriptors) and nothing the store lacks.
        probed = 0
        for k, (image_id, _) in state["largest"].items():
            s, _, out = post("SearchFacesByImage", CollectionId="crash",
                             Image={"Bytes": state["images"][k]}, MaxFaces=4096,
                             FaceMatchThreshold=99.9)
            self.assertEqual(s, 200, out)
            found = {m["Face"]["FaceId"] for m in out["FaceMatches"]}
            box = out["SearchedFaceBoundingBox"]
            expected = {f["FaceId"] for f in listed
                        if f["ImageId"] == image_id and near(f["BoundingBox"], box)}
            probed += len(expected)
            self.assertEqual(expected - found, set(), "stored faces the index does not find")
            self.assertEqual(found - ids, set(), "index returns faces the store lacks")
        self.assertGreater(probed, 0, "no stored face was probed")
        # Resync the bookkeeping with what survived (in-flight writes may or may not have).
        state["live"] = ids
        state["pending_delete"] = set()
        return len(listed)

    def test_kill_9_during_writes(self):
        images = [b64(p) for p in SAMPLES]
        state = {"live": set(), "deleted": set(), "pending_delete": set(), "largest": {},
                 "acks": 0, "images": images}
        print("kill -9 schedule: ARGUS_CRASH_SEED=%d" % SEED, file=sys.stderr)
        rng = random.Random(SEED)
        server = Server()
        data_dir = server.data_dir
        s, _, out = server.post("RekognitionService.CreateCollection",
                                json.dumps({"CollectionId": "crash"}))
        self.assertEqual(s, 200, out)
        counts = []
        for round_ in range(2):
            writer = Writer(server, images, state, start_at=1000 * round_)
            writer.start()
            deadline = time.time() + 120
            while state["acks"] < 2 and time.time() < deadline:
                time.sleep(0.05)
            pause = rng.uniform(0.2, 4.0)  # then at an arbitrary moment
            print("kill -9 round %d: %.3f s after the second acknowledgement"
                  % (round_ + 1, pause), file=sys.stderr)
            time.sleep(pause)
            server.proc.kill()
            server.proc.wait()
            writer.join(timeout=120)
            state["acks"] = 0
            server = Server(data_dir=data_dir)
            counts.append(self.check(server, state))
            print("kill -9 round %d: %d faces after restart, %d deletions acknowledged so far"
                  % (round_ + 1, counts[-1], len(state["deleted"])), file=sys.stderr)
        self.assertEqual(server.stop(), 0)
        self.assertGreater(counts[-1], 0)


if __name__ == "__main__":
    unittest.main()
