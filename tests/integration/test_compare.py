"""CompareFaces through the real server: aws CLI, raw signed requests, the CLI."""
import base64
import json
import os
import subprocess
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, Server
from test_server import gray_png

SAMPLE1 = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three women
SAMPLE2 = os.path.join(FACEAPI_DEMO, "sample2.jpg")


def image(path_or_bytes):
    data = path_or_bytes
    if isinstance(path_or_bytes, str):
        with open(path_or_bytes, "rb") as fh:
            data = fh.read()
    return {"Bytes": base64.b64encode(data).decode()}


class CompareFacesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def compare(self, src, tgt, **extra):
        body = {"SourceImage": image(src), "TargetImage": image(tgt), **extra}
        return self.server.post("RekognitionService.CompareFaces", json.dumps(body))

    def test_aws_cli_same_image_matches_the_largest_face_itself(self):
        r = self.server.aws("compare-faces", "--source-image-bytes", "fileb://" + SAMPLE1,
                            "--target-image-bytes", "fileb://" + SAMPLE1,
                            "--similarity-threshold", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        # Threshold 0: every target face is a match, sorted by Similarity.
        matches = out["FaceMatches"]
        self.assertEqual(len(matches), 3)
        self.assertEqual(out["UnmatchedFaces"], [])
        sims = [m["Similarity"] for m in matches]
        self.assertEqual(sims, sorted(sims, reverse=True))
        self.assertGreater(sims[0], 99)
        # The best match is the source face itself: same box.
        src, best = out["SourceImageFace"]["BoundingBox"], matches[0]["Face"]["BoundingBox"]
        for k in ("Left", "Top", "Width", "Height"):
            self.assertAlmostEqual(src[k], best[k], places=3)
        # Different people score lower than the face itself.
        self.assertLess(sims[1], sims[0] - 5)
        face = matches[0]["Face"]
        self.assertEqual(sorted(l["Type"] for l in face["Landmarks"]),
                         ["eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"])
        for k in ("Pose", "Quality", "Confidence"):
            self.assertIn(k, face)

    def test_threshold_splits_matches_and_unmatched(self):
        status, _, out = self.compare(SAMPLE1, SAMPLE1, SimilarityThreshold=99.5)
        self.assertEqual(status, 200, out)
        self.assertEqual(len(out["FaceMatches"]) + len(out["UnmatchedFaces"]), 3)
        self.assertGreaterEqual(len(out["FaceMatches"]), 1)
        for m in out["FaceMatches"]:
            self.assertGreaterEqual(m["Similarity"], 99.5)

    def test_target_without_faces_is_empty_lists(self):
        status, _, out = self.compare(SAMPLE1, gray_png(200, 150))
        self.assertEqual(status, 200, out)
        self.assertEqual(out["FaceMatches"], [])
        self.assertEqual(out["UnmatchedFaces"], [])

    def test_source_without_a_face_is_invalid_parameter(self):
        status, _, out = self.compare(gray_png(200, 150), SAMPLE1)
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "InvalidParameterException", out)
        self.assertIn("source image", out["message"])

    def test_bad_parameters(self):
        status, _, out = self.compare(SAMPLE1, SAMPLE1, SimilarityThreshold=101)
        self.assertEqual(status, 400)
        self.assertIn("similaritythreshold", out["message"].lower(), out)
        status, _, out = self.compare(SAMPLE1, SAMPLE1, QualityFilter="BEST")
        self.assertEqual(status, 400)
        self.assertIn("qualityfilter", out["message"].lower(), out)
        status, _, out = self.server.post("RekognitionService.CompareFaces",
                                          json.dumps({"SourceImage": image(SAMPLE1)}))
        self.assertEqual(status, 400)
        self.assertIn("targetimage", out["message"].lower(), out)
        status, _, out = self.compare(SAMPLE1, b"not an image at all")
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "InvalidImageFormatException", out)

    def test_cli_prints_the_same_json_as_the_api(self):
        run = subprocess.run([ARGUS_BIN, "compare-faces", SAMPLE2, SAMPLE1, "--model-dir",
                              MODEL_DIR, "--similarity-threshold", "0"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        cli = json.loads(run.stdout)
        status, _, api = self.compare(SAMPLE2, SAMPLE1, SimilarityThreshold=0)
        self.assertEqual(status, 200)
        self.assertEqual(len(cli["FaceMatches"]), len(api["FaceMatches"]))
        for a, b in zip(cli["FaceMatches"], api["FaceMatches"]):
            self.assertAlmostEqual(a["Similarity"], b["Similarity"], places=3)


if __name__ == "__main__":
    unittest.main()
