"""Face liveness sessions against the real server and models:
CreateFaceLivenessSession, the argus upload path PutFaceLivenessFrames
(docs/API.md#face-liveness) and GetFaceLivenessSessionResults, raw and
through boto3 (Debian's botocore model predates these operations, so the
client's model is completed from tools/rekognition/liveness_operations.json,
the supplement the server's validators are generated from)."""
import base64
import json
import os
import re
import unittest
import uuid

import botocore.session
import cv2
import numpy as np

from harness import FACEAPI_DEMO, Server, client_model_dir, create_key, temp_dir

SOURCE_DIR = os.environ.get("ARGUS_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "../.."))
SUPPLEMENT = os.path.join(SOURCE_DIR, "tools/rekognition/liveness_operations.json")
# The evaluation data beside the project (ARGUS_DATA, else ../shared/data);
# the test that needs it skips without it.
SHARED = os.environ.get("ARGUS_DATA") or os.path.join(SOURCE_DIR, "..", "shared", "data")
HAMILTON = os.path.join(SHARED, "video", "hamilton_clip.mp4")
GROUP = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three people
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def jpeg(img):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def selfie_crop(img, box):
    """A 3:4 portrait window around a face (Rekognition BoundingBox), the face
    a third of its height, as a front camera frames it."""
    h, w = img.shape[:2]
    side = min(h, 3 * max(box["Width"] * w, box["Height"] * h))
    cy, cx = (box["Top"] + box["Height"] / 2) * h, (box["Left"] + box["Width"] / 2) * w
    y0 = int(max(0, min(h - side, cy - side / 2)))
    x0 = int(max(0, min(w - 0.75 * side, cx - 0.375 * side)))
    return img[y0:y0 + int(side), x0:x0 + int(0.75 * side)]


def portrait_burst(n=6, img=None):
    """A still picture seen by a slightly moving camera (small perspective
    changes): frames of a photo, not of a live person."""
    img = LivenessTest.portrait if img is None else img
    h, w = img.shape[:2]
    rng = np.random.default_rng(3)
    out = []
    for _ in range(n):
        d = rng.uniform(-0.01, 0.01, (4, 2)) * [w, h]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        m = cv2.getPerspectiveTransform(src, np.float32(src + d))
        out.append(jpeg(cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)))
    return out


def hamilton_burst(start=120, n=8, step=3):
    """Real video frames of one person (the close-up around `start`), cropped
    to a portrait window fixed for the whole burst, as a front camera frames it."""
    cap = cv2.VideoCapture(HAMILTON)
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    while len(frames) < n * step:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    return frames[::step][:n]


def images(burst):
    return [{"Bytes": base64.b64encode(b).decode()} for b in burst]


class LivenessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = temp_dir("argus-liveness-s3-")
        os.makedirs(os.path.join(cls.s3, "out"))
        cls.server = Server("--s3-root", cls.s3, "--policy", "open")
        cls.alice = create_key(cls.server.data_dir, "alice", "research", "research")
        cls.bob = create_key(cls.server.data_dir, "bob", "research", "research")
        # One face of the group photo, framed as a selfie (a portrait upscaled to 480 high).
        group = cv2.imread(GROUP)
        status, _, out = cls.server.post("RekognitionService.DetectFaces",
                                         json.dumps({"Image": images([jpeg(group)])[0]}))
        assert status == 200 and out["FaceDetails"], out
        crop = selfie_crop(group, out["FaceDetails"][0]["BoundingBox"])
        cls.portrait = cv2.resize(crop, (360, 480), interpolation=cv2.INTER_CUBIC)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "argus did not shut down cleanly (rc %s)" % rc

    def call(self, op, body, key=None):
        key = key or self.alice
        return self.server.post("RekognitionService." + op, json.dumps(body),
                                access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])

    def ok(self, op, body, key=None):
        status, _, out = self.call(op, body, key)
        self.assertEqual(status, 200, out)
        return out

    def error(self, op, body, key=None):
        status, _, out = self.call(op, body, key)
        self.assertEqual(status, 400, out)
        return out["__type"]

    def session(self, key=None, **settings):
        out = self.ok("CreateFaceLivenessSession", {"Settings": settings} if settings else {}, key)
        self.assertRegex(out["SessionId"], UUID)
        return out["SessionId"]

    def check_image(self, image, bytes_expected=True):
        box = image["BoundingBox"]
        for k in ("Left", "Top", "Width", "Height"):
            self.assertGreaterEqual(box[k], 0, box)
            self.assertLessEqual(box[k], 1, box)
        self.assertGreater(box["Width"], 0)
        if bytes_expected:
            raw = base64.b64decode(image["Bytes"])
            self.assertLessEqual(len(raw), 204800)
            self.assertIsNotNone(cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR))

    def test_new_session_is_created(self):
        sid = self.session()
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        self.assertEqual(out, {"SessionId": sid, "Status": "CREATED"})

    def test_burst_succeeds_with_reference_and_audit_images(self):
        sid = self.session(AuditImagesLimit=3)
        put = self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(portrait_burst())})
        self.assertEqual(put["Status"], "SUCCEEDED", put)
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        self.assertEqual(out["Status"], "SUCCEEDED")
        self.assertGreaterEqual(out["Confidence"], 0)
        self.assertLessEqual(out["Confidence"], 100)
        self.check_image(out["ReferenceImage"])
        self.assertEqual(len(out["AuditImages"]), 3)
        for a in out["AuditImages"]:
            self.check_image(a)
        self.assertLessEqual(set(out), {"SessionId", "Status", "Confidence", "ReferenceImage",
                                        "AuditImages"})

    def test_audit_images_default_to_none(self):
        sid = self.session()
        self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(portrait_burst(3))})
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        self.assertEqual(out["AuditImages"], [])
        self.assertIn("ReferenceImage", out)

    def test_photo_repeated_scores_low(self):
        sid = self.session()
        put = self.ok("PutFaceLivenessFrames",
                      {"SessionId": sid, "Images": images([jpeg(self.portrait)] * 5)})
        self.assertEqual(put["Status"], "SUCCEEDED")
        self.assertLessEqual(put["Confidence"], 10)  # no motion at all
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        self.assertEqual(out["Confidence"], put["Confidence"])
        self.assertIn("ReferenceImage", out)

    def test_more_than_one_face_is_not_live(self):
        sid = self.session()
        burst = portrait_burst(4, cv2.imread(GROUP))
        put = self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(burst)})
        self.assertEqual(put["Status"], "SUCCEEDED")
        self.assertLessEqual(put["Confidence"], 10)

    def test_no_face_fails(self):
        sid = self.session()
        blank = [jpeg(np.full((240, 320, 3), v, np.uint8)) for v in (90, 100, 110)]
        put = self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(blank)})
        self.assertEqual(put["Status"], "FAILED")
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        self.assertEqual(out, {"SessionId": sid, "Status": "FAILED"})

    def test_video_upload(self):
        path = os.path.join(temp_dir("argus-liveness-clip-"), "clip.mp4")
        img = self.portrait
        size = (img.shape[1] // 2 * 2, img.shape[0] // 2 * 2)
        w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"avc1"), 8, size)
        if not w.isOpened():
            self.skipTest("OpenCV cannot write H.264 here")
        for _ in range(12):
            w.write(cv2.resize(img, size))
        w.release()
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode()
        sid = self.session(AuditImagesLimit=1)
        put = self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Video": {"Bytes": data}})
        self.assertEqual(put["Status"], "SUCCEEDED")
        self.assertLessEqual(put["Confidence"], 10)  # the same picture twelve times
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        self.assertEqual(len(out["AuditImages"]), 1)

    def test_output_config_writes_objects(self):
        sid = self.session(OutputConfig={"S3Bucket": "out", "S3KeyPrefix": "live"},
                           AuditImagesLimit=2)
        self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(portrait_burst(4))})
        out = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        ref = out["ReferenceImage"]
        self.assertNotIn("Bytes", ref)
        self.assertEqual(ref["S3Object"], {"Bucket": "out", "Name": "live/%s/reference.jpg" % sid})
        self.check_image(ref, bytes_expected=False)
        self.assertTrue(os.path.isfile(os.path.join(self.s3, "out", "live", sid, "reference.jpg")))
        self.assertEqual(len(out["AuditImages"]), 2)
        for a in out["AuditImages"]:
            self.assertTrue(os.path.isfile(os.path.join(self.s3, "out", a["S3Object"]["Name"])))

    def test_output_bucket_must_exist(self):
        self.assertEqual(self.error("CreateFaceLivenessSession",
                                    {"Settings": {"OutputConfig": {"S3Bucket": "absent"}}}),
                         "InvalidParameterException")

    def test_errors(self):
        self.assertEqual(self.error("GetFaceLivenessSessionResults", {"SessionId": str(uuid.uuid4())}),
                         "SessionNotFoundException")
        self.assertEqual(self.error("PutFaceLivenessFrames",
                                    {"SessionId": str(uuid.uuid4()),
                                     "Images": images(portrait_burst(2))}),
                         "SessionNotFoundException")
        for limit in (5, -1):
            self.assertEqual(self.error("CreateFaceLivenessSession",
                                        {"Settings": {"AuditImagesLimit": limit}}),
                             "InvalidParameterException")
        self.assertEqual(self.error("GetFaceLivenessSessionResults", {"SessionId": "not-a-uuid"}),
                         "InvalidParameterException")
        sid = self.session()
        self.assertEqual(self.error("PutFaceLivenessFrames",
                                    {"SessionId": sid, "Images": images(portrait_burst(1))}),
                         "InvalidParameterException")  # a burst is 2 images at least
        self.assertEqual(self.error("PutFaceLivenessFrames", {"SessionId": sid}),
                         "InvalidParameterException")
        self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(portrait_burst(2))})
        self.assertEqual(self.error("PutFaceLivenessFrames",
                                    {"SessionId": sid, "Images": images(portrait_burst(2))}),
                         "InvalidParameterException")  # one upload per session

    def test_another_principals_session_is_not_found(self):
        sid = self.session()
        self.assertEqual(self.error("GetFaceLivenessSessionResults", {"SessionId": sid}, self.bob),
                         "SessionNotFoundException")
        self.assertEqual(self.error("PutFaceLivenessFrames",
                                    {"SessionId": sid, "Images": images(portrait_burst(2))},
                                    self.bob), "SessionNotFoundException")
        self.assertEqual(self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})["Status"],
                         "CREATED")

    def test_client_request_token_returns_the_same_session(self):
        a = self.ok("CreateFaceLivenessSession", {"ClientRequestToken": "tok-1"})["SessionId"]
        b = self.ok("CreateFaceLivenessSession", {"ClientRequestToken": "tok-1"})["SessionId"]
        c = self.ok("CreateFaceLivenessSession", {"ClientRequestToken": "tok-1"}, self.bob)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c["SessionId"])

    def test_session_survives_a_restart(self):
        sid = self.session(AuditImagesLimit=1)
        self.ok("PutFaceLivenessFrames", {"SessionId": sid, "Images": images(portrait_burst(3))})
        before = self.ok("GetFaceLivenessSessionResults", {"SessionId": sid})
        server = LivenessTest.server
        self.assertEqual(server.stop(), 0)
        LivenessTest.server = Server("--s3-root", self.s3, "--policy", "open",
                                     data_dir=server.data_dir, issue_key=False)
        LivenessTest.server.access_key = server.access_key
        LivenessTest.server.secret_key = server.secret_key
        self.assertEqual(self.ok("GetFaceLivenessSessionResults", {"SessionId": sid}), before)

    @unittest.skipUnless(os.path.isfile(HAMILTON), "needs the evaluation data (ARGUS_DATA)")
    def test_real_frames_score_above_the_same_photo_repeated(self):
        frames = hamilton_burst()
        found = self.ok("DetectFaces", {"Image": images([jpeg(frames[0])])[0]})["FaceDetails"]
        self.assertTrue(found)
        crop = [selfie_crop(f, found[0]["BoundingBox"]) for f in frames]
        live = self.session()
        still = self.session()
        a = self.ok("PutFaceLivenessFrames", {"SessionId": live, "Images": images([jpeg(f) for f in crop])})
        b = self.ok("PutFaceLivenessFrames",
                    {"SessionId": still, "Images": images([jpeg(crop[0])] * len(crop))})
        self.assertGreaterEqual(a["Confidence"], 50)  # judged live
        self.assertLessEqual(b["Confidence"], 10)

    def test_boto3_create_and_get(self):
        session = botocore.session.get_session()
        session.get_component("data_loader").search_paths.insert(0, client_model_dir(SUPPLEMENT))
        rek = session.create_client(
            "rekognition", region_name="us-east-1", endpoint_url=self.server.url,
            aws_access_key_id=self.alice["AccessKeyId"],
            aws_secret_access_key=self.alice["SecretAccessKey"])
        sid = rek.create_face_liveness_session(Settings={"AuditImagesLimit": 1})["SessionId"]
        put = rek.put_face_liveness_frames(SessionId=sid,
                                           Images=[{"Bytes": b} for b in portrait_burst(3)])
        self.assertEqual(put["Status"], "SUCCEEDED")
        out = rek.get_face_liveness_session_results(SessionId=sid)
        self.assertEqual(out["Status"], "SUCCEEDED")
        self.assertIsInstance(out["ReferenceImage"]["Bytes"], bytes)
        self.assertEqual(len(out["AuditImages"]), 1)
        with self.assertRaises(rek.exceptions.SessionNotFoundException):
            rek.get_face_liveness_session_results(SessionId=str(uuid.uuid4()))


if __name__ == "__main__":
    unittest.main()
