"""The real server under concurrent clients: face, label and text inference
side by side on several workers while IndexFaces writes and SearchFacesByImage
reads one collection. Each concurrent answer equals the answer to the same
request made alone. Run in the normal suite and, through tests/sanitize/run.sh,
against the ThreadSanitizer build."""
import base64
import json
import os
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import FACEAPI_DEMO, Server  # noqa: E402

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in (1, 2)]


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class ConcurrentClientsTest(unittest.TestCase):
    def test_side_by_side_inference_and_index_writes_give_the_answers_made_alone(self):
        server = Server("--workers", "3", "--queue", "64")
        try:
            images = [b64(p) for p in SAMPLES]
            post = lambda op, body: server.post("RekognitionService." + op, json.dumps(body))
            s, _, out = post("CreateCollection", {"CollectionId": "side"})
            self.assertEqual(s, 200, out)
            reads = [("DetectFaces", {"Image": {"Bytes": images[0]}}),
                     ("DetectFaces", {"Image": {"Bytes": images[1]}}),
                     ("DetectLabels", {"Image": {"Bytes": images[0]}, "MaxLabels": 5}),
                     ("DetectText", {"Image": {"Bytes": images[1]}})]
            alone = []
            for op, body in reads:
                s, _, out = post(op, body)
                self.assertEqual(s, 200, (op, out))
                alone.append(out)

            writes = [("IndexFaces", {"CollectionId": "side", "Image": {"Bytes": images[i % 2]},
                                      "ExternalImageId": "w%d" % i}) for i in range(2)]
            searches = [("SearchFacesByImage", {"CollectionId": "side",
                                                "Image": {"Bytes": images[i % 2]}})
                        for i in range(2)]
            jobs = reads * 2 + writes + searches
            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(lambda j: post(*j), jobs))

            for (op, _), (s, _, out) in zip(jobs, results):
                self.assertEqual(s, 200, (op, out))
            for k, (_, _, out) in enumerate(results[:2 * len(reads)]):
                op = jobs[k][0]
                self.assertEqual(out, alone[k % len(reads)], op + " differs when run side by side")
            indexed = sum(len(out["FaceRecords"]) for _, _, out in
                          results[2 * len(reads):2 * len(reads) + len(writes)])
            s, _, out = post("DescribeCollection", {"CollectionId": "side"})
            self.assertEqual(out["FaceCount"], indexed)
            self.assertGreater(indexed, 0)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
