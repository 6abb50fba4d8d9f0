"""`argus eval verification` reports the pairs with a face in both images
apart from the end-to-end figures, and `argus eval portraits` finds the face
of darkened, greyscale, low-contrast and tightly cropped portraits."""
import json
import os
import subprocess
import unittest

import cv2
import numpy as np

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, temp_dir


def argus(*args):
    run = subprocess.run([ARGUS_BIN, *args, "--model-dir", MODEL_DIR, "--json"],
                         capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise AssertionError(" ".join(args) + ": " + run.stderr)
    return json.loads(run.stdout)


def faces_of(path):
    out = subprocess.run([ARGUS_BIN, "detect-faces", path, "--model-dir", MODEL_DIR],
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout)["FaceDetails"]


class EvalCli(unittest.TestCase):
    def test_verification_reports_pairs_with_faces_apart(self):
        images = temp_dir("argus-eval-ver-")
        sample = cv2.imread(os.path.join(FACEAPI_DEMO, "sample1.jpg"))
        h, w = sample.shape[:2]
        # One crop per face of sample1 (three women), a mirrored copy of the
        # first, and an image without a face.
        boxes = faces_of(os.path.join(FACEAPI_DEMO, "sample1.jpg"))
        self.assertGreaterEqual(len(boxes), 3)
        for i, f in enumerate(boxes[:3]):
            b = f["BoundingBox"]
            x, y = int(b["Left"] * w), int(b["Top"] * h)
            bw, bh = int(b["Width"] * w), int(b["Height"] * h)
            crop = sample[max(0, y - bh):y + 2 * bh, max(0, x - bw):x + 2 * bw]
            cv2.imwrite(os.path.join(images, "face%d.jpg" % i), crop)
            if i == 0:
                cv2.imwrite(os.path.join(images, "face0-mirror.jpg"), cv2.flip(crop, 1))
        cv2.imwrite(os.path.join(images, "blank.jpg"), np.full((200, 200, 3), 128, np.uint8))
        pairs = os.path.join(images, "pairs.csv")
        with open(pairs, "w") as out:
            out.write("image_a,image_b,same\n"
                      "face0.jpg,face0-mirror.jpg,1\n"
                      "face0.jpg,face1.jpg,0\n"
                      "face1.jpg,face2.jpg,0\n"
                      "blank.jpg,face2.jpg,0\n"
                      "blank.jpg,face0.jpg,1\n")
        r = argus("eval", "verification", "--pairs", pairs, "--images", images)
        self.assertEqual(r["pairs"], 5)
        self.assertEqual(r["no_face"], 1)
        self.assertEqual(r["pairs_without_faces"], 2)
        self.assertEqual(r["same_pairs_without_faces"], 1)
        f = r["face_pairs"]
        self.assertEqual(f["pairs"], 3)
        self.assertEqual(f["same_pairs"], 1)
        # End to end, the blank impostor pair is a match at every threshold;
        # among the pairs with faces, two different women do not match at 99.
        self.assertAlmostEqual(r["fmr_at_similarity"]["99"], 1 / 3)
        self.assertEqual(f["fmr_at_similarity"]["99"], 0)
        self.assertEqual(r["fnmr_at_similarity"]["80"], 0.5)
        self.assertEqual(f["fnmr_at_similarity"]["80"], 0)

    def test_portraits_dark_grey_and_tight_are_found(self):
        images = temp_dir("argus-eval-portraits-")
        for n in range(1, 7):
            os.symlink(os.path.join(FACEAPI_DEMO, "sample%d.jpg" % n),
                       os.path.join(images, "sample%d.jpg" % n))
        cv2.imwrite(os.path.join(images, "blank.png"), np.full((120, 160, 3), 40, np.uint8))
        r = argus("eval", "portraits", "--images", images)
        self.assertEqual(r["images"], 7)
        self.assertEqual(r["no_clear_face_in_original"], 1)
        self.assertEqual(r["portraits"] + r["group_photos"], 6)
        self.assertGreaterEqual(len(r["variants"]), 8)
        for name, v in r["variants"].items():
            tried = 0
            for kind in ("portraits", "group_photos"):
                with self.subTest(variant=name, kind=kind):
                    c = v[kind]
                    tried += c["images"] + c["below_80_pixels"]
                    self.assertEqual(c["missed"], 0, c["examples"])
            self.assertEqual(tried, 6)

if __name__ == "__main__":
    unittest.main()
