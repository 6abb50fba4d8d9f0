"""`argus video analyse` on a clip the test writes: the Get* JSON on stdout,
the progress bar on stderr, clear exits for bad use."""
import json
import os
import subprocess
import unittest

import cv2
import numpy as np

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, temp_dir


def write_clip(path):
    """2 s of a photo with faces then 1 s of black, 5 fps, H.264."""
    img = cv2.imread(os.path.join(FACEAPI_DEMO, "sample1.jpg"))
    h, w = img.shape[:2]
    img = cv2.resize(img, (480, int(h * 480 / w) // 2 * 2))
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"avc1"), 5,
                             (img.shape[1], img.shape[0]))
    for _ in range(10):
        writer.write(img)
    for _ in range(5):
        writer.write(np.zeros_like(img))
    writer.release()


class VideoAnalyseCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = temp_dir("argus-video-cli-")
        cls.clip = os.path.join(cls.dir, "clip.mp4")
        write_clip(cls.clip)

    def analyse(self, *args):
        return subprocess.run([ARGUS_BIN, "video", "analyse", "--model-dir", MODEL_DIR, *args],
                              capture_output=True, text=True, timeout=300)

    def test_faces_prints_get_face_detection_json_with_progress(self):
        r = self.analyse("--op", "faces", self.clip)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["VideoMetadata"]["FrameWidth"], 480)
        self.assertGreater(len(out["Faces"]), 0)
        stamps = [f["Timestamp"] for f in out["Faces"]]
        self.assertEqual(stamps, sorted(stamps))
        self.assertLess(max(stamps), 2000)  # no face in the black second
        self.assertIn("video faces", r.stderr)

    def test_full_face_detection_on_every_frame_agrees_on_a_still_scene(self):
        # A still scene: the faces tracked between full detections (the
        # default) are those a full detection on every sampled frame finds.
        def faces(*flags):
            r = self.analyse("--op", "faces", *flags, self.clip)
            self.assertEqual(r.returncode, 0, r.stderr)
            return sorted(f["Timestamp"] for f in json.loads(r.stdout)["Faces"])
        every = faces("--video-full-face-detection-ms", "0")
        self.assertGreater(len(every), 0)
        self.assertEqual(faces(), every)
        r = self.analyse("--op", "faces", "--video-full-face-detection-ms", "soon", self.clip)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--video-full-face-detection-ms", r.stderr)

    def test_segments_finds_the_black_frames(self):
        r = self.analyse("--op", "segments", self.clip)
        self.assertEqual(r.returncode, 0, r.stderr)
        cues = [s for s in json.loads(r.stdout)["Segments"] if s["Type"] == "TECHNICAL_CUE"]
        self.assertIn("BlackFrames", [c["TechnicalCueSegment"]["Type"] for c in cues])

    def test_bad_use_exits_with_a_reason(self):
        r = self.analyse("--op", "celebrities", self.clip)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown --op", r.stderr)
        r = self.analyse("--op", "search", self.clip)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--collection", r.stderr)
        r = self.analyse("--op", "faces", os.path.join(self.dir, "missing.mp4"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(json.loads(r.stderr.strip().splitlines()[-1])["__type"],
                         "InvalidParameterException")


if __name__ == "__main__":
    unittest.main()
