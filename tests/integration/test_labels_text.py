"""Black-box tests of DetectLabels, DetectText and DetectModerationLabels:
the real `argus serve` with the real models, called by the aws CLI and by
signed raw requests. Text images are rendered here with OpenCV's Hershey
fonts (Debian's python3-opencv), so no image data is needed beyond the model
packages."""
import base64
import json
import math
import os
import subprocess
import unittest

import cv2
import numpy as np

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, Server, temp_dir

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three women at a party, a wine glass


def blank(w, h, value=255):
    return np.full((h, w, 3), value, np.uint8)


def draw_text(img, text, x, y):
    """Black text with its baseline-left at (x, y), about 24 px high."""
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)


def rotate(img, degrees):
    """Rotates about the centre, clockwise on screen for positive degrees, white fill."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def png(img):
    ok, data = cv2.imencode(".png", img)
    assert ok
    return data.tobytes()


def two_lines():
    img = blank(640, 480)
    draw_text(img, "Hello Argus", 60, 140)
    draw_text(img, "Text 2024", 60, 320)
    return img


class LabelsTextModerationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.tmp = temp_dir("argus-text-")
        cls.text_png = os.path.join(cls.tmp, "two_lines.png")
        with open(cls.text_png, "wb") as f:
            f.write(png(two_lines()))
        cls.gray_png = os.path.join(cls.tmp, "gray.png")
        with open(cls.gray_png, "wb") as f:
            f.write(png(blank(320, 240, 128)))

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "argus did not shut down cleanly (rc %s)" % rc

    def call(self, op, image_path, **extra):
        with open(image_path, "rb") as f:
            body = {"Image": {"Bytes": base64.b64encode(f.read()).decode()}, **extra}
        return self.server.post("RekognitionService." + op, json.dumps(body))

    def aws_json(self, *args):
        r = self.server.aws(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def assert_box(self, box):
        for k in ("Left", "Top", "Width", "Height"):
            self.assertGreaterEqual(box[k], 0)
            self.assertLessEqual(box[k], 1.0001)
        self.assertLessEqual(box["Left"] + box["Width"], 1.0001)
        self.assertLessEqual(box["Top"] + box["Height"], 1.0001)

    # DetectLabels

    def test_aws_cli_detect_labels_finds_the_people(self):
        out = self.aws_json("detect-labels", "--image-bytes", "fileb://" + SAMPLE)
        labels = {l["Name"]: l for l in out["Labels"]}
        self.assertIn("Person", labels)
        person = labels["Person"]
        self.assertGreaterEqual(len(person["Instances"]), 3, person)
        self.assertEqual(person["Categories"], [{"Name": "Person Description"}])
        self.assertEqual(person["Aliases"], [{"Name": "Human"}])
        for inst in person["Instances"]:
            self.assert_box(inst["BoundingBox"])
            self.assertGreaterEqual(inst["Confidence"], 55)
        self.assertIn("People", labels)
        self.assertEqual(labels["People"]["Parents"], [{"Name": "Person"}])
        self.assertEqual(labels["People"]["Instances"], [])
        confs = [l["Confidence"] for l in out["Labels"]]
        self.assertEqual(confs, sorted(confs, reverse=True))
        self.assertTrue(all(c >= 55 for c in confs))
        self.assertTrue(out["LabelModelVersion"])
        self.assertNotIn("ImageProperties", out)

    def test_labels_parameters_and_filters(self):
        status, _, out = self.call("DetectLabels", SAMPLE, MinConfidence=0, MaxLabels=3)
        self.assertEqual(status, 200, out)
        self.assertEqual(len(out["Labels"]), 3)
        # Parents are labels too, never less confident than their children.
        status, _, out = self.call("DetectLabels", SAMPLE, MinConfidence=0)
        byname = {l["Name"]: l for l in out["Labels"]}
        for l in out["Labels"]:
            for p in l["Parents"]:
                self.assertIn(p["Name"], byname)
                self.assertGreaterEqual(byname[p["Name"]]["Confidence"], l["Confidence"] - 1e-3)
        status, _, out = self.call(
            "DetectLabels", SAMPLE, MinConfidence=0,
            Settings={"GeneralLabels": {"LabelInclusionFilters": ["Person"]}})
        self.assertEqual([l["Name"] for l in out["Labels"]], ["Person"])
        status, _, out = self.call(
            "DetectLabels", SAMPLE, MinConfidence=0,
            Settings={"GeneralLabels": {"LabelCategoryExclusionFilters": ["Person Description"]}})
        names = [l["Name"] for l in out["Labels"]]
        self.assertNotIn("Person", names)
        self.assertNotIn("People", names)

    def test_image_properties(self):
        out = self.aws_json("detect-labels", "--image-bytes", "fileb://" + SAMPLE,
                            "--features", "GENERAL_LABELS", "IMAGE_PROPERTIES",
                            "--settings", '{"ImageProperties": {"MaxDominantColors": 5}}')
        props = out["ImageProperties"]
        for k in ("Brightness", "Sharpness", "Contrast"):
            self.assertGreaterEqual(props["Quality"][k], 0)
            self.assertLessEqual(props["Quality"][k], 100)
        colors = props["DominantColors"]
        self.assertTrue(1 <= len(colors) <= 5)
        self.assertLessEqual(sum(c["PixelPercent"] for c in colors), 100.01)
        for c in colors:
            self.assertEqual(c["HexCode"], "#%02x%02x%02x" % (c["Red"], c["Green"], c["Blue"]))
            self.assertIn(c["SimplifiedColor"], ["black", "white", "grey", "red", "orange", "brown",
                                                 "yellow", "green", "teal", "blue", "purple", "pink"])
            self.assertTrue(c["CSSColor"].isalpha())
        # The people are the foreground.
        self.assertIn("Foreground", props)
        self.assertIn("Background", props)
        self.assertIn("Labels", out)
        # IMAGE_PROPERTIES alone: no labels.
        status, _, only = self.call("DetectLabels", self.gray_png, Features=["IMAGE_PROPERTIES"])
        self.assertEqual(status, 200, only)
        self.assertEqual(only["Labels"], [])
        gray = only["ImageProperties"]["DominantColors"]
        self.assertEqual(len(gray), 1)
        self.assertEqual(gray[0]["SimplifiedColor"], "grey")
        self.assertAlmostEqual(gray[0]["PixelPercent"], 100, places=3)

    def test_empty_results_are_valid_answers(self):
        for op, key in (("DetectLabels", "Labels"), ("DetectText", "TextDetections"),
                        ("DetectModerationLabels", "ModerationLabels")):
            status, _, out = self.call(op, self.gray_png)
            self.assertEqual(status, 200, (op, out))
            self.assertEqual(out[key], [], op)

    def test_bad_input_gets_rekognition_errors(self):
        for op in ("DetectLabels", "DetectText", "DetectModerationLabels"):
            status, _, out = self.server.post(
                "RekognitionService." + op, json.dumps({"Image": {"Bytes": "bm90IGFuIGltYWdl"}}))
            self.assertEqual(status, 400)
            self.assertEqual(out["__type"], "InvalidImageFormatException", op)
            status, _, out = self.call(op, SAMPLE, MinConfidence=150) if op != "DetectText" else \
                self.call(op, SAMPLE, Filters={"WordFilter": {"MinConfidence": 150}})
            self.assertEqual(out["__type"], "InvalidParameterException", (op, out))

    # DetectText

    def lines_and_words(self, out):
        lines = [d for d in out["TextDetections"] if d["Type"] == "LINE"]
        words = [d for d in out["TextDetections"] if d["Type"] == "WORD"]
        return lines, words

    def test_aws_cli_detect_text_reads_rendered_lines(self):
        out = self.aws_json("detect-text", "--image-bytes", "fileb://" + self.text_png)
        lines, words = self.lines_and_words(out)
        self.assertEqual([l["DetectedText"] for l in lines], ["Hello Argus", "Text 2024"])
        self.assertEqual([w["DetectedText"] for w in words], ["Hello", "Argus", "Text", "2024"])
        ids = {l["Id"] for l in lines}
        self.assertEqual(ids, {0, 1})
        for w in words:
            self.assertIn(w["ParentId"], ids)
            self.assertNotIn("ParentId", lines[0])
        self.assertEqual([w["ParentId"] for w in words], [0, 0, 1, 1])
        for d in out["TextDetections"]:
            self.assertGreater(d["Confidence"], 90)
            self.assert_box(d["Geometry"]["BoundingBox"])
            poly = d["Geometry"]["Polygon"]
            self.assertEqual(len(poly), 4)
        # "Hello" lies left of "Argus", both on the first line (y ~ 118..147 of 480).
        first, second = words[0]["Geometry"]["BoundingBox"], words[1]["Geometry"]["BoundingBox"]
        self.assertLess(first["Left"] + first["Width"], second["Left"] + 0.02)
        self.assertAlmostEqual(first["Top"] + first["Height"] / 2, 130 / 480, delta=0.03)
        self.assertTrue(out["TextModelVersion"])

    def test_text_read_at_every_image_size(self):
        # The detector runs at each image's own size (multiples of 32, long
        # side at most 960): sizes alternate so the server's nets for one
        # size are reused after another size ran.
        for w, h in ((640, 480), (1920, 1080), (400, 1200), (1000, 700), (640, 480)):
            s = min(w, h) / 480.0  # text size in proportion, 24 px high at 640x480
            img = blank(w, h)
            for text, y in (("Hello Argus", 0.3), ("Text 2024", 0.6)):
                cv2.putText(img, text, (int(60 * s), int(y * h)), cv2.FONT_HERSHEY_SIMPLEX,
                            s, (0, 0, 0), max(2, int(2 * s)), cv2.LINE_AA)
            path = os.path.join(self.tmp, "size%dx%d.png" % (w, h))
            with open(path, "wb") as f:
                f.write(png(img))
            status, _, out = self.call("DetectText", path)
            self.assertEqual(status, 200, out)
            lines, _ = self.lines_and_words(out)
            # Case aside: at 1920x1080 the recogniser reads the thick final
            # "s" (from the full-resolution crop) as "S".
            self.assertEqual([l["DetectedText"].lower() for l in lines],
                             ["hello argus", "text 2024"], (w, h))
            for line, y in zip(lines, (0.3, 0.6)):
                box = line["Geometry"]["BoundingBox"]
                # The baseline is at y; the text's middle lies a little above it.
                self.assertAlmostEqual(box["Top"] + box["Height"], y, delta=0.03, msg=(w, h, box))
                self.assertAlmostEqual(box["Left"], 60 * s / w, delta=0.02, msg=(w, h, box))

    def test_rotated_text_within_ninety_degrees(self):
        for degrees in (30, -45, 90):
            path = os.path.join(self.tmp, "rot%d.png" % degrees)
            img = blank(640, 640)
            draw_text(img, "Hello Argus", 240, 330)
            with open(path, "wb") as f:
                f.write(png(rotate(img, degrees)))
            status, _, out = self.call("DetectText", path)
            self.assertEqual(status, 200, out)
            lines, words = self.lines_and_words(out)
            self.assertEqual([l["DetectedText"] for l in lines], ["Hello Argus"], degrees)
            # The polygon follows the text: its top edge has the text's slope.
            p = lines[0]["Geometry"]["Polygon"]
            angle = math.degrees(math.atan2(p[1]["Y"] - p[0]["Y"], p[1]["X"] - p[0]["X"]))
            self.assertAlmostEqual(angle, degrees, delta=4, msg=p)

    def test_regions_of_interest_and_word_filter(self):
        lower = {"RegionsOfInterest": [{"BoundingBox": {"Left": 0, "Top": 0.5, "Width": 1, "Height": 0.5}}]}
        status, _, out = self.call("DetectText", self.text_png, Filters=lower)
        self.assertEqual(status, 200, out)
        self.assertEqual([d["DetectedText"] for d in out["TextDetections"]], ["Text 2024", "Text", "2024"])
        poly = {"RegionsOfInterest": [{"Polygon": [{"X": 0, "Y": 0}, {"X": 1, "Y": 0}, {"X": 1, "Y": 0.45}]}]}
        status, _, out = self.call("DetectText", self.text_png, Filters=poly)
        self.assertEqual(status, 200, out)
        texts = [d["DetectedText"] for d in out["TextDetections"]]
        self.assertNotIn("Text 2024", texts)
        tall = {"WordFilter": {"MinBoundingBoxHeight": 0.5}}
        status, _, out = self.call("DetectText", self.text_png, Filters=tall)
        self.assertEqual(out["TextDetections"], [])

    def test_region_outside_the_image_is_invalid_parameter(self):
        r = self.server.aws("detect-text", "--image-bytes", "fileb://" + self.text_png, "--filters",
                            '{"RegionsOfInterest": [{"BoundingBox": {"Left": 0.8, "Top": 0.1, '
                            '"Width": 0.5, "Height": 0.2}}]}')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("InvalidParameterException", r.stderr)

    # DetectModerationLabels

    def test_aws_cli_moderation_labels(self):
        out = self.aws_json("detect-moderation-labels", "--image-bytes", "fileb://" + SAMPLE,
                            "--min-confidence", "0")
        self.assertTrue(out["ModerationModelVersion"])
        cli_names = {l["Name"] for l in out["ModerationLabels"]}
        # Debian's aws CLI (2022 service model) drops TaxonomyLevel, newer
        # than its model: the taxonomy is checked on the raw response.
        with open(SAMPLE, "rb") as fh:
            body = json.dumps({"Image": {"Bytes": base64.b64encode(fh.read()).decode()},
                               "MinConfidence": 0})
        status, _, out = self.server.post("RekognitionService.DetectModerationLabels", body)
        self.assertEqual(status, 200, out)
        names = {l["Name"]: l for l in out["ModerationLabels"]}
        self.assertEqual(set(names), cli_names)
        self.assertEqual(names["Explicit Nudity"]["TaxonomyLevel"], 1)
        self.assertEqual(names["Explicit Nudity"]["ParentName"], "")
        self.assertEqual(names["Suggestive"]["TaxonomyLevel"], 1)
        for l in out["ModerationLabels"]:
            if l["TaxonomyLevel"] == 2:
                self.assertIn(l["ParentName"], names)
                self.assertGreaterEqual(names[l["ParentName"]]["Confidence"], l["Confidence"] - 1e-3)
        # The default MinConfidence (50) only keeps what reaches it.
        out = self.aws_json("detect-moderation-labels", "--image-bytes", "fileb://" + SAMPLE)
        self.assertTrue(all(l["Confidence"] >= 50 for l in out["ModerationLabels"]))

    # CLI

    def test_cli_prints_the_same_json_as_the_api(self):
        for cmd, op, path in (("detect-labels", "DetectLabels", SAMPLE),
                              ("detect-text", "DetectText", self.text_png),
                              ("detect-moderation-labels", "DetectModerationLabels", SAMPLE)):
            out = subprocess.run([ARGUS_BIN, cmd, path, "--model-dir", MODEL_DIR],
                                 capture_output=True, text=True, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            status, _, api = self.call(op, path)
            self.assertEqual(status, 200)
            cli = json.loads(out.stdout)
            self.assertEqual(json.dumps(cli, sort_keys=True), json.dumps(api, sort_keys=True), cmd)


if __name__ == "__main__":
    unittest.main()
