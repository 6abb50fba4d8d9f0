"""`argus bench faces` smoke test: argus and the face-api peer (node, tfjs
WASM) on one image; checks that both ran on the same weights and agree, never
how fast either was. The peer is installed with `npm ci --prefer-offline`
into the bench cache folder: a warm npm cache is enough, no registry needed."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO

SAMPLE1 = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three women


def bench(*args, env=None):
    return subprocess.run([ARGUS_BIN, "bench", "faces", *args], capture_output=True, text=True,
                          timeout=300, env=env)


class BenchFacesTest(unittest.TestCase):
    @unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node and npm not installed")
    def test_peer_and_argus_find_the_same_faces_with_matching_descriptors(self):
        r = bench(SAMPLE1, "--n", "1", "--warmup", "0", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        peer = out["peer"]
        self.assertEqual(peer["versions"]["face-api"], "1.7.15")  # models/faceapi.json's pin
        self.assertEqual(peer["backend"], "wasm")
        self.assertEqual(out["threads"], 1)
        self.assertEqual(peer["threads"], 1)
        [img] = out["images"]
        self.assertEqual(img["name"], "sample1.jpg")
        self.assertEqual(img["argus"]["ssd"]["faces"], 3)
        self.assertEqual(img["peer"]["faces"], 3)
        # Same weights, same pixels: every face paired by box, descriptors close.
        agree = out["agreement"]
        self.assertEqual(agree["faces_paired"], 3)
        self.assertGreater(agree["descriptor_cosine_mean"], 0.9)
        self.assertGreater(out["ratio"]["ssd"]["mean"], 0)
        self.assertGreater(img["peer"]["p50_ms"], 0)
        self.assertGreater(img["argus"]["ssd"]["p50_ms"], 0)

    def test_without_node_the_message_says_what_is_missing(self):
        env = dict(os.environ, PATH="/nonexistent")
        r = bench(SAMPLE1, "--n", "1", "--warmup", "0", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("node and npm are needed", r.stderr)
        self.assertIn("--no-peer", r.stderr)

    def test_no_peer_times_argus_alone(self):
        r = bench(SAMPLE1, "--n", "1", "--warmup", "0", "--no-peer", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertNotIn("peer", out)
        self.assertEqual(out["images"][0]["argus"]["ssd"]["faces"], 3)

    def test_bad_images_are_named_and_an_empty_set_refused(self):
        with tempfile.TemporaryDirectory() as d:
            r = bench("--images", d, "--no-peer")
            self.assertEqual(r.returncode, 1)
            self.assertIn("no JPEG or PNG images in " + d, r.stderr)
            bad = os.path.join(d, "broken.jpg")
            with open(bad, "wb") as fh:
                fh.write(b"not a jpeg")
            r = bench("--images", d, "--no-peer")
            self.assertEqual(r.returncode, 1)
            self.assertIn("skipping " + bad, r.stderr)
            self.assertIn("no readable image", r.stderr)
            r = bench("--n", "0", "--no-peer")
            self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
