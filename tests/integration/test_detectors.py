"""The face detector modes through the real CLI and models: the cascade's
BlazeFace stage settles portraits on its own, joins one SSD pass where it sees
only a few larger faces, and hands photos of small faces to the tiled SSD,
which must then answer exactly as ssd-tiled does."""
import json
import os
import subprocess
import tempfile
import unittest

import cv2  # Debian python3-opencv
import numpy as np

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR


def detect_details(path, detector, threads=2):
    run = subprocess.run([ARGUS_BIN, "detect-faces", path, "--model-dir", MODEL_DIR,
                          "--face-detector", detector, "--threads", str(threads)],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise AssertionError(f"detect-faces --face-detector {detector}: {run.stderr}")
    return json.loads(run.stdout)["FaceDetails"]


def detect(path, detector):
    return [f["BoundingBox"] for f in detect_details(path, detector)]


def iou(a, b):
    x0, y0 = max(a["Left"], b["Left"]), max(a["Top"], b["Top"])
    x1 = min(a["Left"] + a["Width"], b["Left"] + b["Width"])
    y1 = min(a["Top"] + a["Height"], b["Top"] + b["Height"])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a["Width"] * a["Height"] + b["Width"] * b["Height"] - inter)


class DetectorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        # A one-face portrait: the right-hand woman of sample1 at 640x480.
        img = cv2.imread(os.path.join(FACEAPI_DEMO, "sample1.jpg"))
        h, w = img.shape[:2]
        crop = img[0:int(h * 0.43), int(w * 0.62):]
        cls.portrait = os.path.join(cls.tmp.name, "portrait.jpg")
        cv2.imwrite(cls.portrait, cv2.resize(crop, (640, 480), interpolation=cv2.INTER_AREA))
        # A tight crop where the face fills the frame (LFW style).
        boxes = detect(cls.portrait, "ssd-tiled")
        b = boxes[0]
        p = cv2.imread(cls.portrait)
        ph, pw = p.shape[:2]
        x0, y0 = int(b["Left"] * pw), int(b["Top"] * ph)
        x1, y1 = int((b["Left"] + b["Width"]) * pw), int((b["Top"] + b["Height"]) * ph)
        tight = cv2.resize(p[y0:y1, x0:x1], (250, 250), interpolation=cv2.INTER_CUBIC)
        cls.tight = os.path.join(cls.tmp.name, "tight.png")
        cv2.imwrite(cls.tight, tight)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_small_faces_reach_the_tiled_ssd(self):
        # human's sample sheet: many small faces, some of which BlazeFace is
        # unsure of, so the cascade must give exactly ssd-tiled's answer.
        path = os.path.join(MODEL_DIR, "packages/human/package/assets/samples.jpg")
        cascade, tiled = detect(path, "cascade"), detect(path, "ssd-tiled")
        self.assertGreaterEqual(len(tiled), 6)
        self.assertEqual(cascade, tiled)

    def test_group_photos_find_the_same_faces_as_the_tiled_ssd(self):
        # Three to five people a fifth of the photo high: whichever passes the
        # cascade runs, it finds the faces ssd-tiled finds, in nearly the same
        # place (the order may differ between faces of about the same size).
        for name in ("sample1.jpg", "sample4.jpg", "sample5.jpg"):
            path = os.path.join(FACEAPI_DEMO, name)
            cascade, tiled = detect(path, "cascade"), detect(path, "ssd-tiled")
            self.assertGreaterEqual(len(tiled), 3, name)
            self.assertEqual(len(cascade), len(tiled), name)
            for a in cascade:
                self.assertGreaterEqual(max(iou(a, b) for b in tiled), 0.8, name)

    def test_portrait_is_settled_by_blazeface_with_the_same_face(self):
        cascade = detect(self.portrait, "cascade")
        blaze = detect(self.portrait, "blaze")
        tiled = detect(self.portrait, "ssd-tiled")
        self.assertEqual(len(cascade), 1)
        self.assertEqual(len(tiled), 1)
        # The cascade's answer is BlazeFace's (it settled the portrait) ...
        self.assertEqual(cascade, blaze)
        # ... and its box, mapped to the SSD's convention, is the same face by
        # the WIDER criterion (IoU >= 0.5; this head is tilted, where the two
        # detectors' box shapes differ most).
        self.assertGreaterEqual(iou(cascade[0], tiled[0]), 0.5)

    def unsure_close_ups(self):
        """Each face of human's sample sheet alone at the middle of a 640x480
        photo, 160 px high (the small ones come out blurred by the upscaling),
        where BlazeFace sees one likely but unsure face (score 0.5-0.75) and
        nothing else: (path, BlazeFace's FaceDetails) for each."""
        sheet = os.path.join(MODEL_DIR, "packages/human/package/assets/samples.jpg")
        img = cv2.imread(sheet)
        h, w = img.shape[:2]
        for i, b in enumerate(detect(sheet, "ssd-tiled")):
            s = 160 / (b["Height"] * h)
            cx, cy = (b["Left"] + b["Width"] / 2) * w, (b["Top"] + b["Height"] / 2) * h
            m = np.float32([[s, 0, 320 - cx * s], [0, s, 240 - cy * s]])
            photo = cv2.warpAffine(img, m, (640, 480), flags=cv2.INTER_LINEAR,
                                   borderValue=(128, 128, 128))
            path = os.path.join(self.tmp.name, f"close-up-{i}.jpg")
            cv2.imwrite(path, photo)
            blaze = detect_details(path, "blaze")
            if len(blaze) == 1 and 50 <= blaze[0]["Confidence"] < 75:
                yield path, blaze

    def test_blurred_close_ups_get_the_ssds_answer(self):
        # The cascade runs SSD passes for an unsure face instead of settling:
        # its face is the one ssd-tiled finds, scored by the SSD (above
        # BlazeFace's score).
        checked = 0
        for path, blaze in self.unsure_close_ups():
            checked += 1
            cascade, tiled = detect_details(path, "cascade"), detect(path, "ssd-tiled")
            self.assertEqual(len(cascade), 1, path)
            self.assertGreaterEqual(max(iou(cascade[0]["BoundingBox"], t) for t in tiled), 0.5,
                                    path)
            self.assertGreater(cascade[0]["Confidence"], blaze[0]["Confidence"], path)
        self.assertGreater(checked, 0, "no sample face left BlazeFace unsure")

    def test_passes_side_by_side_answer_as_passes_in_turn(self):
        # With two threads the SSD passes run two at a time (whole and widened,
        # the tiles, the whole and zoomed-out passes for an unsure face); with
        # one they run in turn. The answers must be the same.
        def same(a, b, where):
            if isinstance(a, dict):
                self.assertEqual(sorted(a), sorted(b), where)
                for k in a:
                    same(a[k], b[k], where + "." + k)
            elif isinstance(a, list):
                self.assertEqual(len(a), len(b), where)
                for i, (x, y) in enumerate(zip(a, b)):
                    same(x, y, f"{where}[{i}]")
            elif isinstance(a, float):
                self.assertAlmostEqual(a, b, delta=1e-3, msg=where)
            else:
                self.assertEqual(a, b, where)

        sheet = os.path.join(MODEL_DIR, "packages/human/package/assets/samples.jpg")
        close_up = next(self.unsure_close_ups())[0]
        for path in (sheet, os.path.join(FACEAPI_DEMO, "sample4.jpg"), close_up):
            for detector in ("cascade", "ssd-tiled"):
                one = detect_details(path, detector, threads=1)
                two = detect_details(path, detector, threads=2)
                self.assertGreater(len(one), 0, path)
                same(one, two, f"{os.path.basename(path)} {detector}")

    def test_a_large_photo_costs_its_pixels_not_canvases_of_its_size(self):
        # 8000x6000 with no face: every SSD pass runs, the zoomed-out one
        # included. The passes work on net-sized canvases, so the process
        # needs the decoded photo (144 MB) and the models, not canvases of
        # several times the photo (3.3 GB before).
        path = os.path.join(self.tmp.name, "large.jpg")
        ramp = np.linspace(60, 190, 8000, dtype=np.float32)
        img = np.repeat(np.repeat(ramp[None, :, None], 6000, axis=0), 3, axis=2).astype(np.uint8)
        cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 80])
        for detector in ("cascade", "ssd-tiled"):
            out_path = os.path.join(self.tmp.name, f"large-{detector}.json")
            with open(out_path, "wb") as out:
                proc = subprocess.Popen([ARGUS_BIN, "detect-faces", path, "--model-dir",
                                         MODEL_DIR, "--face-detector", detector], stdout=out)
                # This child's own peak resident set (KiB on Linux).
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
            self.assertEqual(proc.returncode, 0, detector)
            with open(out_path) as f:
                self.assertEqual(json.load(f)["FaceDetails"], [], detector)
            # Under AddressSanitizer (tests/sanitize/run.sh) the process also
            # holds shadow memory and a quarantine of freed blocks; the
            # regression guarded against was 3.3 GB.
            limit = (2 << 30) if os.environ.get("ASAN_OPTIONS") else (1 << 30)
            self.assertLess(usage.ru_maxrss * 1024, limit, detector)

    def test_tight_portrait_is_found(self):
        self.assertEqual(len(detect(self.tight, "cascade")), 1)

    def test_unknown_detector_names_the_choices(self):
        run = subprocess.run([ARGUS_BIN, "detect-faces", self.portrait, "--model-dir", MODEL_DIR,
                              "--face-detector", "yolo"],
                             capture_output=True, text=True, timeout=120)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("unknown face detector 'yolo'", run.stderr)
        self.assertIn("cascade", run.stderr)


if __name__ == "__main__":
    unittest.main()
