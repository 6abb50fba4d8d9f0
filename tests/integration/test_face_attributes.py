"""DetectFaces attributes (AgeRange, Gender, Emotions, Smile, EyesOpen,
MouthOpen, EyeDirection) from the real server, models and aws CLI."""
import base64
import json
import os
import subprocess
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, Server

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three women; the right one laughs, mouth open
EMOTIONS = {"HAPPY", "SAD", "ANGRY", "CONFUSED", "DISGUSTED", "SURPRISED", "CALM", "FEAR"}
ATTRIBUTES = {"AgeRange", "Gender", "Emotions", "Smile", "EyesOpen", "MouthOpen", "EyeDirection"}
UNSUPPORTED = {"Beard", "Mustache", "Eyeglasses", "Sunglasses", "FaceOccluded"}


class FaceAttributesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        # An aws CLI whose service model predates EyeDirection (Debian's, 2022)
        # drops it from its output; the raw response carries it.
        r = cls.server.aws("detect-faces", "--image-bytes", "fileb://" + SAMPLE,
                           "--attributes", "ALL")
        assert r.returncode == 0, r.stderr
        cls.cli_all = json.loads(r.stdout)["FaceDetails"]
        with open(SAMPLE, "rb") as fh:
            body = {"Image": {"Bytes": base64.b64encode(fh.read()).decode()}, "Attributes": ["ALL"]}
        status, _, out = cls.server.post("RekognitionService.DetectFaces", json.dumps(body))
        assert status == 200, out
        cls.all = out["FaceDetails"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def detect(self, attributes):
        with open(SAMPLE, "rb") as fh:
            body = {"Image": {"Bytes": base64.b64encode(fh.read()).decode()},
                    "Attributes": attributes}
        status, _, out = self.server.post("RekognitionService.DetectFaces", json.dumps(body))
        self.assertEqual(status, 200, out)
        return out["FaceDetails"]

    def judgement(self, j):
        self.assertIsInstance(j["Value"], bool)
        self.assertGreaterEqual(j["Confidence"], 50)
        self.assertLessEqual(j["Confidence"], 100)

    def test_all_gives_every_supported_attribute_with_sane_values(self):
        self.assertEqual(len(self.all), 3)
        for f in self.all:
            self.assertTrue(ATTRIBUTES <= set(f), sorted(f))
            self.assertFalse(UNSUPPORTED & set(f), "attributes no model estimates are omitted")
            age = f["AgeRange"]
            self.assertLess(age["Low"], age["High"])
            self.assertGreaterEqual(age["Low"], 12)  # adults in the photo
            self.assertLessEqual(age["High"], 60)
            self.assertEqual(f["Gender"]["Value"], "Female")
            self.assertGreater(f["Gender"]["Confidence"], 50)
            emotions = f["Emotions"]
            types = [e["Type"] for e in emotions]
            self.assertEqual(len(types), 7)
            self.assertEqual(len(set(types)), 7)
            self.assertTrue(set(types) <= EMOTIONS - {"CONFUSED"})
            conf = [e["Confidence"] for e in emotions]
            self.assertEqual(conf, sorted(conf, reverse=True), "highest confidence first")
            self.assertAlmostEqual(sum(conf), 100, delta=0.1)
            for k in ("Smile", "EyesOpen", "MouthOpen"):
                self.judgement(f[k])
            self.assertEqual(f["Smile"]["Value"], types[0] == "HAPPY")
            eye = f["EyeDirection"]
            for k in ("Yaw", "Pitch"):
                self.assertLessEqual(abs(eye[k]), 180)
            self.assertGreaterEqual(eye["Confidence"], 0)
            self.assertLessEqual(eye["Confidence"], 100)
            self.assertEqual(len(f["Landmarks"]), 30)
        # All three look towards the camera with their eyes open.
        self.assertTrue(all(f["EyesOpen"]["Value"] for f in self.all))

    def test_aws_cli_reads_the_attributes_its_model_knows(self):
        self.assertEqual(len(self.cli_all), len(self.all))
        for cli, raw in zip(self.cli_all, self.all):
            self.assertEqual(set(cli) - {"EyeDirection"}, set(raw) - {"EyeDirection"})
            self.assertEqual(cli["AgeRange"], raw["AgeRange"])
            self.assertEqual(cli["Gender"], raw["Gender"])
            self.assertEqual(cli["Emotions"], raw["Emotions"])

    def test_the_laughing_face_smiles_with_its_mouth_open(self):
        right = max(self.all, key=lambda f: f["BoundingBox"]["Left"])
        self.assertTrue(right["Smile"]["Value"])
        self.assertGreater(right["Smile"]["Confidence"], 90)
        self.assertEqual(right["Emotions"][0]["Type"], "HAPPY")
        self.assertTrue(right["MouthOpen"]["Value"])

    def test_single_attributes_add_only_themselves(self):
        for name, key in (("GENDER", "Gender"), ("AGE_RANGE", "AgeRange"),
                          ("EMOTIONS", "Emotions"), ("EYE_DIRECTION", "EyeDirection")):
            faces = self.detect([name])
            self.assertEqual(len(faces), 3)
            for f in faces:
                self.assertEqual(ATTRIBUTES & set(f), {key}, name)
                self.assertEqual(len(f["Landmarks"]), 5)
        both = self.detect(["DEFAULT", "SMILE", "MOUTH_OPEN"])
        self.assertEqual(ATTRIBUTES & set(both[0]), {"Smile", "MouthOpen"})

    def test_default_and_unsupported_names_add_nothing(self):
        for attrs in (["DEFAULT"], ["BEARD", "SUNGLASSES", "FACE_OCCLUDED"], []):
            for f in self.detect(attrs):
                self.assertFalse((ATTRIBUTES | UNSUPPORTED) & set(f), attrs)

    def test_unknown_attribute_is_invalid_parameter(self):
        with open(SAMPLE, "rb") as fh:
            body = {"Image": {"Bytes": base64.b64encode(fh.read()).decode()},
                    "Attributes": ["AGE"]}
        status, _, out = self.server.post("RekognitionService.DetectFaces", json.dumps(body))
        self.assertEqual(status, 400)
        self.assertIn("InvalidParameterException", out["__type"])

    def test_cli_prints_the_same_attributes_as_the_api(self):
        out = subprocess.run([ARGUS_BIN, "detect-faces", SAMPLE, "--attributes", "ALL",
                              "--model-dir", MODEL_DIR], capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        cli = json.loads(out.stdout)["FaceDetails"]
        self.assertEqual(len(cli), len(self.all))
        for a, b in zip(cli, self.all):
            self.assertEqual(set(a), set(b))
            self.assertEqual(a["AgeRange"], b["AgeRange"])
            self.assertEqual(a["Gender"]["Value"], b["Gender"]["Value"])
            self.assertEqual([e["Type"] for e in a["Emotions"]][:2],
                             [e["Type"] for e in b["Emotions"]][:2])
            for k in ("Smile", "EyesOpen", "MouthOpen"):
                self.assertEqual(a[k]["Value"], b[k]["Value"])
                self.assertAlmostEqual(a[k]["Confidence"], b[k]["Confidence"], places=2)
            for k in ("Yaw", "Pitch"):
                self.assertAlmostEqual(a["EyeDirection"][k], b["EyeDirection"][k], places=2)


if __name__ == "__main__":
    unittest.main()
