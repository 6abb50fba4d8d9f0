"""Stored-video operations (Start*/Get*) against the real server: jobs on
clips the test writes with OpenCV, read through --s3-root, with boto3, the
AWS CLI and raw requests; paging tokens, idempotency, a restart in the middle
of a job, broken and missing inputs, size limits, webhook notifications, and
the policy and audit of video face search."""
import base64
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import unittest

import cv2
import numpy as np

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, create_key, temp_dir

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in range(1, 7)]
# The evaluation data beside the project (ARGUS_DATA, else ../shared/data);
# the tests that need it skip without it.
SHARED = os.environ.get("ARGUS_DATA") or os.path.join(
    os.environ.get("ARGUS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
    "..", "shared", "data")
BUCKET = "clips"


def write_clip(path, frames, fps=5, size=(320, 240)):
    """Writes H.264 MP4 from BGR images (each letterboxed into `size`)."""
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"avc1"), fps, size)
    if not w.isOpened():
        raise unittest.SkipTest("OpenCV cannot write H.264 here")
    for img in frames:
        canvas = np.zeros((size[1], size[0], 3), np.uint8)
        s = min(size[0] / img.shape[1], size[1] / img.shape[0])
        r = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)))
        y, x = (size[1] - r.shape[0]) // 2, (size[0] - r.shape[1]) // 2
        canvas[y:y + r.shape[0], x:x + r.shape[1]] = r
        w.write(canvas)
    w.release()


def image_bytes(path):
    with open(path, "rb") as f:
        return {"Bytes": base64.b64encode(f.read()).decode()}


def video(name):
    return {"S3Object": {"Bucket": BUCKET, "Name": name}}


def audit_records(data_dir):
    out = subprocess.run([ARGUS_BIN, "audit", "export", "--format", "jsonl", "--data-dir",
                          data_dir], capture_output=True, text=True, timeout=60)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


class Key:
    def __init__(self, server, name, org_type, purpose):
        k = create_key(server.data_dir, name, org_type, purpose)
        self.server, self.ak, self.sk = server, k["AccessKeyId"], k["SecretAccessKey"]

    def call(self, op, body):
        return self.server.post("RekognitionService." + op, json.dumps(body), access_key=self.ak,
                                secret_key=self.sk)


class VideoBase(unittest.TestCase):
    @classmethod
    def make_clips(cls):
        cls.s3 = temp_dir("argus-video-s3-")
        os.makedirs(os.path.join(cls.s3, BUCKET))
        cls.face_image = None
        imgs = [cv2.imread(p) for p in SAMPLES]
        cls.faces_path = cls.clip_path("faces.mp4")
        # Two seconds of each of two portraits: faces to detect, search and track.
        write_clip(cls.faces_path, [imgs[1]] * 10 + [imgs[2]] * 10, size=(640, 480))
        cls.long_path = cls.clip_path("long.mp4")
        write_clip(cls.long_path, [imgs[1]] * 100)
        with open(cls.faces_path, "rb") as f:
            data = f.read()
        with open(cls.clip_path("truncated.mp4"), "wb") as f:
            f.write(data[:len(data) // 3])

    @classmethod
    def clip_path(cls, name):
        return os.path.join(cls.s3, BUCKET, name)

    def wait(self, call, op, job_id, timeout=120, **extra):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, _, out = call(op, {"JobId": job_id, **extra})
            self.assertEqual(status, 200, out)
            if out["JobStatus"] != "IN_PROGRESS":
                return out
            time.sleep(0.3)
        self.fail("job %s still IN_PROGRESS after %ds" % (job_id, timeout))


class VideoJobs(VideoBase):
    @classmethod
    def setUpClass(cls):
        cls.make_clips()
        cls.hook_port_messages = []
        cls.hook = http.server.HTTPServer(("127.0.0.1", 0), cls.handler())
        threading.Thread(target=cls.hook.serve_forever, daemon=True).start()
        cls.server = Server("--s3-root", cls.s3, "--policy", "open", "--webhook",
                            "video-done=http://127.0.0.1:%d/hook" % cls.hook.server_address[1])
        cls.other = Key(cls.server, "other", "research", "research")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.hook.shutdown()

    @classmethod
    def handler(cls):
        messages = cls.hook_port_messages

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                messages.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass
        return Hook

    def call(self, op, body):
        return self.server.post("RekognitionService." + op, json.dumps(body))

    def start(self, op, name="faces.mp4", **extra):
        status, _, out = self.call(op, {"Video": video(name), **extra})
        self.assertEqual(status, 200, out)
        return out["JobId"]

    def boto3(self):
        import boto3
        return boto3.client("rekognition", endpoint_url=self.server.url, region_name="us-east-1",
                            aws_access_key_id=self.server.access_key,
                            aws_secret_access_key=self.server.secret_key)

    def test_face_detection_pages_chain_to_the_full_list(self):
        rek = self.boto3()
        job = rek.start_face_detection(Video=video("faces.mp4"), JobTag="tag-1")["JobId"]
        self.assertRegex(job, "^[0-9a-f]{64}$")
        full = self.wait(self.call, "GetFaceDetection", job)
        self.assertEqual(full["JobStatus"], "SUCCEEDED", full)
        self.assertEqual(full["JobTag"], "tag-1")
        self.assertEqual(full["Video"], video("faces.mp4"))
        meta = full["VideoMetadata"]
        self.assertEqual((meta["FrameWidth"], meta["FrameHeight"]), (640, 480))
        self.assertGreater(meta["DurationMillis"], 3000)
        faces = full["Faces"]
        self.assertGreaterEqual(len(faces), 5, full)
        self.assertNotIn("NextToken", full)
        stamps = [f["Timestamp"] for f in faces]
        self.assertEqual(stamps, sorted(stamps))
        for f in faces:
            self.assertTrue(0 <= f["Face"]["BoundingBox"]["Left"] < 1)
        # MaxResults 1: the NextToken chain yields the same list, one by one.
        chained, token = [], None
        for _ in range(len(faces) + 2):
            kw = {"JobId": job, "MaxResults": 1}
            if token:
                kw["NextToken"] = token
            page = rek.get_face_detection(**kw)
            self.assertLessEqual(len(page["Faces"]), 1)
            chained += page["Faces"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(json.dumps(chained, sort_keys=True), json.dumps(faces, sort_keys=True))

    def test_pagination_token_of_another_job_or_tampered_is_refused(self):
        a = self.start("StartFaceDetection")
        b = self.start("StartFaceDetection", ClientRequestToken="other-job")
        self.wait(self.call, "GetFaceDetection", a)
        self.wait(self.call, "GetFaceDetection", b)
        _, _, page = self.call("GetFaceDetection", {"JobId": a, "MaxResults": 1})
        token = page["NextToken"]
        status, _, out = self.call("GetFaceDetection", {"JobId": b, "NextToken": token})
        self.assertEqual((status, out["__type"]), (400, "InvalidPaginationTokenException"), out)
        raw = base64.b64decode(token).decode()
        forged = base64.b64encode(raw.replace("|1|", "|2|", 1).encode()).decode()
        status, _, out = self.call("GetFaceDetection", {"JobId": a, "NextToken": forged})
        self.assertEqual(out.get("__type"), "InvalidPaginationTokenException", out)
        status, _, out = self.call("GetFaceDetection", {"JobId": a, "NextToken": "bm9wZQ=="})
        self.assertEqual(out.get("__type"), "InvalidPaginationTokenException", out)

    def test_person_tracking_sorts_by_index(self):
        job = self.start("StartPersonTracking")
        out = self.wait(self.call, "GetPersonTracking", job, SortBy="INDEX")
        self.assertEqual(out["JobStatus"], "SUCCEEDED", out)
        keys = [(p["Person"]["Index"], p["Timestamp"]) for p in out["Persons"]]
        self.assertTrue(keys, out)
        self.assertEqual(keys, sorted(keys))
        _, _, by_time = self.call("GetPersonTracking", {"JobId": job})
        stamps = [p["Timestamp"] for p in by_time["Persons"]]
        self.assertEqual(stamps, sorted(stamps))
        status, _, bad = self.call("GetPersonTracking", {"JobId": job, "SortBy": "NAME"})
        self.assertEqual(bad.get("__type"), "InvalidParameterException", bad)

    def test_idempotent_start(self):
        body = {"Video": video("faces.mp4"), "ClientRequestToken": "same-token-1"}
        _, _, a = self.call("StartFaceDetection", body)
        _, _, b = self.call("StartFaceDetection", body)
        self.assertEqual(a["JobId"], b["JobId"])
        status, _, c = self.call("StartFaceDetection", {**body, "FaceAttributes": "ALL"})
        self.assertEqual((status, c.get("__type")), (400, "IdempotentParameterMismatchException"),
                         c)

    def test_truncated_video_fails_the_job_and_server_lives(self):
        job = self.start("StartFaceDetection", "truncated.mp4")
        out = self.wait(self.call, "GetFaceDetection", job)
        self.assertEqual(out["JobStatus"], "FAILED", out)
        self.assertTrue(out["StatusMessage"], out)
        self.assertEqual(out["Faces"], [])
        status, _, again = self.call("GetFaceDetection", {"JobId": job})
        self.assertEqual(status, 200, again)

    def test_missing_object_and_traversal_are_invalid_s3_object(self):
        for name in ("absent.mp4", "../clips/faces.mp4", "/etc/passwd"):
            status, _, out = self.call("StartFaceDetection", {"Video": video(name)})
            self.assertEqual((status, out.get("__type")), (400, "InvalidS3ObjectException"),
                             (name, out))

    def test_another_principal_sees_no_job(self):
        job = self.start("StartFaceDetection")
        status, _, out = self.other.call("GetFaceDetection", {"JobId": job})
        self.assertEqual((status, out.get("__type")), (400, "ResourceNotFoundException"), out)
        status, _, out = self.call("GetLabelDetection", {"JobId": job})
        self.assertEqual(out.get("__type"), "ResourceNotFoundException", out)

    def test_webhook_receives_the_notification(self):
        job = self.start("StartFaceDetection", ClientRequestToken="hooked", JobTag="hooked",
                         NotificationChannel={
                             "SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:video-done",
                             "RoleArn": "arn:aws:iam::123456789012:role/argus"})
        self.wait(self.call, "GetFaceDetection", job)
        deadline = time.time() + 20
        while time.time() < deadline and not any(
                json.loads(m["Message"])["JobId"] == job for _, m in self.hook_port_messages):
            time.sleep(0.2)
        got = [json.loads(m["Message"]) for _, m in self.hook_port_messages]
        mine = [m for m in got if m["JobId"] == job]
        self.assertEqual(len(mine), 1, got)
        self.assertEqual((mine[0]["Status"], mine[0]["API"], mine[0]["JobTag"]),
                         ("SUCCEEDED", "StartFaceDetection", "hooked"))

    def test_aws_cli_start_and_get_face_detection_page_by_page(self):
        r = self.server.aws("start-face-detection", "--video", json.dumps(video("faces.mp4")),
                            "--face-attributes", "DEFAULT")
        self.assertEqual(r.returncode, 0, r.stderr)
        job = json.loads(r.stdout)["JobId"]
        full = self.wait(self.call, "GetFaceDetection", job)
        self.assertEqual(full["JobStatus"], "SUCCEEDED", full)
        self.assertGreaterEqual(len(full["Faces"]), 3, full)
        chained, token = [], None
        for _ in range(len(full["Faces"]) + 2):
            args = ["get-face-detection", "--job-id", job, "--max-results", "2"]
            if token:
                args += ["--next-token", token]
            r = self.server.aws(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            page = json.loads(r.stdout)
            self.assertEqual(page["JobStatus"], "SUCCEEDED")
            self.assertLessEqual(len(page["Faces"]), 2)
            chained += page["Faces"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(json.dumps(chained, sort_keys=True),
                         json.dumps(full["Faces"], sort_keys=True))

    def test_aws_cli_start_and_get_label_detection(self):
        r = self.server.aws("start-label-detection", "--video",
                            json.dumps(video("faces.mp4")), "--min-confidence", "40")
        self.assertEqual(r.returncode, 0, r.stderr)
        job = json.loads(r.stdout)["JobId"]
        out = self.wait(self.call, "GetLabelDetection", job)
        self.assertEqual(out["JobStatus"], "SUCCEEDED", out)
        self.assertIn("LabelModelVersion", out)
        r = self.server.aws("get-label-detection", "--job-id", job, "--sort-by", "NAME")
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [l["Label"]["Name"] for l in json.loads(r.stdout)["Labels"]]
        self.assertEqual(names, sorted(names))
        _, _, seg = self.call("GetLabelDetection", {"JobId": job, "AggregateBy": "SEGMENTS"})
        self.assertEqual(seg["GetRequestMetadata"], {"SortBy": "TIMESTAMP",
                                                     "AggregateBy": "SEGMENTS"})
        for l in seg["Labels"]:
            self.assertEqual(l["DurationMillis"],
                             l["EndTimestampMillis"] - l["StartTimestampMillis"])
        self.assertLessEqual(len(seg["Labels"]), len(out["Labels"]))

    def test_text_moderation_and_segments_answer_their_shapes(self):
        jobs = {"GetTextDetection": self.start("StartTextDetection"),
                "GetContentModeration": self.start("StartContentModeration"),
                "GetSegmentDetection": self.start("StartSegmentDetection",
                                                  SegmentTypes=["SHOT", "TECHNICAL_CUE"])}
        for op, job in jobs.items():
            out = self.wait(self.call, op, job)
            self.assertEqual(out["JobStatus"], "SUCCEEDED", (op, out))
        seg = self.call("GetSegmentDetection", {"JobId": jobs["GetSegmentDetection"]})[2]
        self.assertEqual(seg["AudioMetadata"], [])
        self.assertIsInstance(seg["VideoMetadata"], list)
        self.assertEqual(sorted(t["Type"] for t in seg["SelectedSegmentTypes"]),
                         ["SHOT", "TECHNICAL_CUE"])
        shots = [s for s in seg["Segments"] if s["Type"] == "SHOT"]
        self.assertGreaterEqual(len(shots), 1, seg)
        status, _, out = self.call("StartSegmentDetection", {"Video": video("faces.mp4"),
                                                             "SegmentTypes": ["SCENE"]})
        self.assertEqual(out.get("__type"), "InvalidParameterException", out)

    # The clip cuts from one portrait to others at 2 s: the indexed face's
    # track must not carry its identity across the cut onto other people.
    def test_face_search_finds_the_indexed_face_while_it_is_on_screen(self):
        self.call("CreateCollection", {"CollectionId": "people"})
        status, _, out = self.call("IndexFaces", {"CollectionId": "people", "MaxFaces": 1,
                                                  "Image": image_bytes(SAMPLES[1])})
        self.assertEqual(status, 200, out)
        face_id = out["FaceRecords"][0]["Face"]["FaceId"]
        job = self.start("StartFaceSearch", CollectionId="people")
        res = self.wait(self.call, "GetFaceSearch", job)
        self.assertEqual(res["JobStatus"], "SUCCEEDED", res)
        persons = res["Persons"]
        self.assertTrue(persons, res)
        for p in persons:
            self.assertEqual({m["Face"]["FaceId"] for m in p["FaceMatches"]}, {face_id})
            self.assertIn("Index", p["Person"])
        # The indexed portrait is on screen for the first two seconds only.
        self.assertTrue(all(p["Timestamp"] < 2600 for p in persons), persons)
        print("face search: %d person items, best similarity %.1f" % (
            len(persons), max(m["Similarity"] for p in persons for m in p["FaceMatches"])))

    def test_celebrity_recognition_is_refused(self):
        status, _, out = self.call("StartCelebrityRecognition", {"Video": video("faces.mp4")})
        self.assertEqual((status, out.get("__type")), (400, "AccessDeniedException"), out)
        self.assertIn("consent", out["message"])

    def test_metrics_count_jobs(self):
        job = self.start("StartFaceDetection", ClientRequestToken="metrics")
        self.wait(self.call, "GetFaceDetection", job)
        import urllib.request
        with urllib.request.urlopen(self.server.url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        self.assertIn('argus_video_jobs{state="succeeded"}', text)


class VideoLimits(VideoBase):
    def test_video_over_the_size_limit_is_refused_at_start(self):
        self.make_clips()
        server = Server("--s3-root", self.s3, "--video-max-mb", "0.001", "--no-auth")
        try:
            status, _, out = server.post("RekognitionService.StartFaceDetection",
                                         json.dumps({"Video": video("faces.mp4")}))
            self.assertEqual((status, out.get("__type")), (400, "VideoTooLargeException"), out)
        finally:
            server.stop()
        server = Server("--s3-root", self.s3, "--video-max-minutes", "0.01", "--no-auth")
        try:
            status, _, out = server.post("RekognitionService.StartFaceDetection",
                                         json.dumps({"Video": video("faces.mp4")}))
            self.assertEqual((status, out.get("__type")), (400, "VideoTooLargeException"), out)
        finally:
            server.stop()

    def test_job_finishes_after_a_restart_in_its_middle(self):
        self.make_clips()
        server = Server("--s3-root", self.s3, "--no-auth")
        post = lambda s: (lambda op, body: s.post("RekognitionService." + op, json.dumps(body)))
        try:
            status, _, out = post(server)("StartFaceDetection", {"Video": video("long.mp4")})
            self.assertEqual(status, 200, out)
            job = out["JobId"]
            time.sleep(1.0)
        finally:
            server.stop()
        server = Server("--s3-root", self.s3, "--no-auth", data_dir=server.data_dir)
        try:
            out = self.wait(post(server), "GetFaceDetection", job, timeout=180)
            self.assertEqual(out["JobStatus"], "SUCCEEDED", out)
            self.assertGreater(len(out["Faces"]), 10)
        finally:
            server.stop()


class VideoFaceSearchPolicy(VideoBase):
    """Under the moratorium-2020 preset: police may not search a video for
    faces; a child-safety organisation may, with the threshold floor raised
    to 99 and every Start and Get audited with its JobId."""

    @classmethod
    def setUpClass(cls):
        cls.make_clips()
        cls.server = Server("--s3-root", cls.s3)  # moratorium-2020
        cls.cop = Key(cls.server, "city-police", "law_enforcement", "investigation")
        cls.ngo = Key(cls.server, "child-ngo", "child_safety", "missing_persons")
        status, _, out = cls.ngo.call("CreateCollection", {"CollectionId": "missing"})
        assert status == 200, out
        status, _, out = cls.ngo.call("IndexFaces", {"CollectionId": "missing",
                                                     "Image": image_bytes(SAMPLES[1]),
                                                     "ExternalImageId": "child-1",
                                                     "MaxFaces": 1})
        assert status == 200, out
        cls.face_id = out["FaceRecords"][0]["Face"]["FaceId"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_police_are_refused_and_audited(self):
        status, headers, out = self.cop.call("StartFaceSearch", {
            "Video": video("faces.mp4"), "CollectionId": "missing"})
        self.assertEqual((status, out.get("__type")), (400, "AccessDeniedException"), out)
        rid = headers["x-amzn-RequestId"]
        r = [x for x in audit_records(self.server.data_dir) if x["request_id"] == rid]
        self.assertEqual(len(r), 1)
        self.assertEqual((r[0]["decision"], r[0]["op_class"]), ("deny", "face_identification_1toN"))

    def test_child_safety_search_finds_the_indexed_face_with_the_floor_raised(self):
        status, headers, out = self.ngo.call("StartFaceSearch", {
            "Video": video("faces.mp4"), "CollectionId": "missing", "FaceMatchThreshold": 50})
        self.assertEqual(status, 200, out)
        job = out["JobId"]
        start_rid = headers["x-amzn-RequestId"]
        res = self.wait(self.ngo.call, "GetFaceSearch", job)
        self.assertEqual(res["JobStatus"], "SUCCEEDED", res)
        # The job ran at the raised floor: no match under 99.
        persons = res["Persons"]
        for p in persons:
            for m in p["FaceMatches"]:
                self.assertGreaterEqual(m["Similarity"], 99)
                self.assertEqual(m["Face"]["FaceId"], self.face_id)
        status, headers, _ = self.ngo.call("GetFaceSearch", {"JobId": job, "SortBy": "INDEX"})
        self.assertEqual(status, 200)
        get_rid = headers["x-amzn-RequestId"]
        records = {r["request_id"]: r for r in audit_records(self.server.data_dir)}
        start = records[start_rid]
        self.assertEqual((start["operation"], start["decision"]), ("StartFaceSearch", "allow"))
        self.assertEqual((start["threshold_asked"], start["threshold_applied"]), (50, 99))
        self.assertEqual(start["detail"], "JobId " + job)
        get = records[get_rid]
        self.assertEqual(get["operation"], "GetFaceSearch")
        self.assertEqual(get["detail"], "JobId " + job)
        self.assertEqual(get["matches"], sum(len(p["FaceMatches"]) for p in persons))
        if persons:
            self.assertGreaterEqual(get["top_similarity"], 99)

    def test_unknown_collection_is_resource_not_found(self):
        status, _, out = self.ngo.call("StartFaceSearch", {"Video": video("faces.mp4"),
                                                           "CollectionId": "nowhere"})
        self.assertEqual(out.get("__type"), "ResourceNotFoundException", out)


HAMILTON = os.path.join(SHARED, "video/hamilton_clip.mp4")
PORTRAITS = {"lin-manuel-miranda": os.path.join(SHARED, "faces-misc/lin-manuel-miranda.png"),
             "alex-lacamoire": os.path.join(SHARED, "faces-misc/alex-lacamoire.png")}


class HamiltonClip(unittest.TestCase):
    def test_face_search_finds_both_people(self):
        if not os.path.exists(HAMILTON) or not all(map(os.path.exists, PORTRAITS.values())):
            self.skipTest("shared video data not present (%s)" % HAMILTON)
        s3 = temp_dir("argus-video-s3-")
        os.makedirs(os.path.join(s3, BUCKET))
        shutil.copy(HAMILTON, os.path.join(s3, BUCKET, "hamilton.mp4"))
        server = Server("--s3-root", s3, "--policy", "open")
        try:
            call = lambda op, b: server.post("RekognitionService." + op, json.dumps(b))
            call("CreateCollection", {"CollectionId": "cast"})
            for name, path in PORTRAITS.items():
                status, _, out = call("IndexFaces", {"CollectionId": "cast", "MaxFaces": 1,
                                                     "Image": image_bytes(path),
                                                     "ExternalImageId": name})
                self.assertEqual(status, 200, out)
            _, _, out = call("StartFaceSearch", {"Video": video("hamilton.mp4"),
                                                 "CollectionId": "cast"})
            job = out["JobId"]
            deadline, res = time.time() + 300, None
            while time.time() < deadline:
                _, _, res = call("GetFaceSearch", {"JobId": job})
                if res["JobStatus"] != "IN_PROGRESS":
                    break
                time.sleep(1)
            self.assertEqual(res["JobStatus"], "SUCCEEDED", res)
            found = {m["Face"]["ExternalImageId"] for p in res["Persons"] for m in p["FaceMatches"]}
            print("hamilton: %d person matches, found %s" % (len(res["Persons"]), sorted(found)))
            self.assertEqual(found, set(PORTRAITS))
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
