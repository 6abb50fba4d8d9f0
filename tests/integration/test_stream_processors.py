"""Stream processors against the real server: an MJPEG source served by the
test over loopback HTTP feeds a FaceSearch processor whose matches arrive at
a loopback webhook (boto3 drives Create/Describe/List/Start/Stop/Update/
Delete); the source drops mid-stream and is reconnected while image
requests keep being answered; stopping stops the output; a ConnectedHome
processor writes S3 objects and SNS notifications; matches are audited; a
restart resumes a running processor; policies gate live face search."""
import glob
import json
import os
import socketserver
import http.server
import subprocess
import threading
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, create_key, temp_dir

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")
ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::%s:role/argus-stream" % ACCOUNT


def video_arn(name):
    return "arn:aws:kinesisvideo:us-east-1:%s:stream/%s/1" % (ACCOUNT, name)


def data_arn(name):
    return "arn:aws:kinesis:us-east-1:%s:stream/%s" % (ACCOUNT, name)


class MjpegSource:
    """multipart/x-mixed-replace JPEG frames at `fps` on /cam.mjpg. drop()
    closes the open streams and answers 503 for `seconds`."""

    def __init__(self, jpeg, fps=10):
        self.jpeg, self.fps = jpeg, fps
        self.down_until = 0.0
        self.generation = 0
        self.connections = 0
        source = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if time.time() < source.down_until:
                    self.send_response(503)
                    self.end_headers()
                    return
                source.connections += 1
                generation = source.generation
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while generation == source.generation:
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(source.jpeg)).encode() + b"\r\n\r\n"
                                         + source.jpeg + b"\r\n")
                        self.wfile.flush()
                        time.sleep(1.0 / source.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Threading(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Threading(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/cam.mjpg" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def drop(self, seconds):
        self.down_until = time.time() + seconds
        self.generation += 1

    def close(self):
        self.generation += 1
        self.httpd.shutdown()


class Hook:
    """Collects POSTed bodies by path."""

    def __init__(self):
        self.bodies = {}
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    hook.bodies.setdefault(self.path, []).append((time.time(), body))
                self.send_response(200)
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def received(self, path):
        with self.lock:
            return [json.loads(b) for _, b in self.bodies.get(path, [])]

    def wait_for(self, path, n, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.received(path)
            if len(got) >= n:
                return got
            time.sleep(0.2)
        raise AssertionError("%d of %d posts to %s in %d s" %
                             (len(self.received(path)), n, path, timeout))


def client(server, key=None):
    key = key or {"AccessKeyId": server.access_key, "SecretAccessKey": server.secret_key}
    return boto3.client("rekognition", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"],
                        config=Config(retries={"max_attempts": 1}))


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None, None


def wait_status(rek, name, statuses, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = rek.describe_stream_processor(Name=name)
        if d["Status"] in statuses:
            return d
        time.sleep(0.2)
    raise AssertionError("%s stayed %s" % (name, d["Status"]))


class FaceSearchStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SAMPLE, "rb") as f:
            cls.jpeg = f.read()
        cls.source = MjpegSource(cls.jpeg)
        cls.hook = Hook()
        cls.s3 = temp_dir("argus-s3-")
        os.makedirs(os.path.join(cls.s3, "home"))
        cls.jsonl = os.path.join(temp_dir("argus-sink-"), "hits.jsonl")
        cls.data_dir = temp_dir("argus-stream-")
        cls.args = ("--policy", "open", "--s3-root", cls.s3,
                    "--stream-source", "cam=" + cls.source.url,
                    "--stream-sink", "hits=%s/hits,file=%s" % (cls.hook.base, cls.jsonl),
                    "--webhook", "home=%s/sns" % cls.hook.base)
        cls.server = Server(*cls.args, data_dir=cls.data_dir)
        cls.rek = client(cls.server)
        cls.rek.create_collection(CollectionId="watch")
        r = cls.rek.index_faces(CollectionId="watch", Image={"Bytes": cls.jpeg}, MaxFaces=1,
                                ExternalImageId="wanted")
        cls.face_id = r["FaceRecords"][0]["Face"]["FaceId"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.source.close()
        cls.hook.httpd.shutdown()

    def create(self, name, sink="hits", **extra):
        args = dict(Name=name, Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
                    Output={"KinesisDataStream": {"Arn": data_arn(sink)}}, RoleArn=ROLE,
                    Settings={"FaceSearch": {"CollectionId": "watch",
                                             "FaceMatchThreshold": 85}})
        args.update(extra)
        return self.rek.create_stream_processor(**args)

    def test_matches_reach_the_webhook_and_stop_when_stopped(self):
        arn = self.create("lobby")["StreamProcessorArn"]
        self.assertTrue(arn.endswith(":streamprocessor/lobby"), arn)
        d = self.rek.describe_stream_processor(Name="lobby")
        self.assertEqual(d["Status"], "STOPPED")
        self.assertEqual(d["Settings"]["FaceSearch"]["CollectionId"], "watch")
        names = [p["Name"] for p in self.rek.list_stream_processors()["StreamProcessors"]]
        self.assertIn("lobby", names)
        session = self.rek.start_stream_processor(Name="lobby")["SessionId"]
        self.assertRegex(session, r"^[0-9a-f-]{36}$")
        wait_status(self.rek, "lobby", {"RUNNING"})
        self.assertEqual(error_code(self.rek.start_stream_processor, Name="lobby")[0],
                         "ResourceInUseException")
        self.assertEqual(error_code(self.rek.delete_stream_processor, Name="lobby")[0],
                         "ResourceInUseException")
        records = self.hook.wait_for("/hits", 5)
        matched = [m for r in records for f in r["FaceSearchResponse"]
                   for m in f["MatchedFaces"]]
        self.assertTrue(matched, records[0])
        self.assertEqual(matched[0]["Face"]["FaceId"], self.face_id)
        self.assertGreaterEqual(matched[0]["Similarity"], 85)
        first = records[0]
        self.assertEqual(first["InputInformation"]["KinesisVideo"]["StreamArn"], video_arn("cam"))
        self.assertEqual(first["StreamProcessorInformation"]["SessionId"], session)
        box = first["FaceSearchResponse"][0]["DetectedFace"]["BoundingBox"]
        self.assertTrue(0 <= box["Left"] <= 1 and 0 < box["Width"] <= 1, box)
        # Never more than the analysis rate (5 a second by default). Offers
        # keep to it on average (each is due one gap after the previous one
        # was due), so a source frame that comes late (the source sends 10 a
        # second) can bring two offers one source frame apart, never closer.
        stamps = sorted(r["InputInformation"]["KinesisVideo"]["ServerTimestamp"]
                        for r in records)
        self.assertLessEqual(len(stamps) - 1, 5 * (stamps[-1] - stamps[0]) + 1, stamps)
        self.assertGreaterEqual(min(b - a for a, b in zip(stamps, stamps[1:])), 0.05, stamps)

        self.rek.stop_stream_processor(Name="lobby")
        self.assertEqual(self.rek.describe_stream_processor(Name="lobby")["Status"], "STOPPED")
        time.sleep(1.0)  # deliveries already queued
        n = len(self.hook.received("/hits"))
        time.sleep(2.0)
        self.assertEqual(len(self.hook.received("/hits")), n)
        self.assertEqual(error_code(self.rek.stop_stream_processor, Name="lobby")[0],
                         "ResourceInUseException")

        # Every match is in the audit log (no face ids), the chain still verifies.
        out = subprocess.run([ARGUS_BIN, "audit", "export", "--format", "jsonl", "--data-dir",
                              self.data_dir], capture_output=True, text=True, timeout=60)
        recs = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        matches = [r for r in recs if r.get("kind") == "match"]
        self.assertTrue(matches)
        self.assertEqual(matches[0]["collection"], "watch")
        self.assertEqual(matches[0]["op_class"], "realtime_identification")
        self.assertGreaterEqual(matches[0]["top_similarity"], 85)
        self.assertNotIn(self.face_id, out.stdout)
        # Tags on the processor's ARN.
        self.rek.tag_resource(ResourceArn=arn, Tags={"site": "hq", "floor": "1"})
        self.rek.untag_resource(ResourceArn=arn, TagKeys=["floor"])
        self.assertEqual(self.rek.list_tags_for_resource(ResourceArn=arn)["Tags"], {"site": "hq"})
        self.assertEqual(error_code(self.rek.list_tags_for_resource,
                                    ResourceArn=arn.replace("lobby", "nowhere"))[0],
                         "ResourceNotFoundException")
        self.rek.delete_stream_processor(Name="lobby")
        self.assertEqual(error_code(self.rek.describe_stream_processor, Name="lobby")[0],
                         "ResourceNotFoundException")

    def test_a_dropped_source_is_reconnected_and_reported(self):
        self.create("door", sink="file")
        self.rek.start_stream_processor(Name="door")
        wait_status(self.rek, "door", {"RUNNING"})
        deadline = time.time() + 30
        while time.time() < deadline and not os.path.exists(self.jsonl):
            time.sleep(0.2)
        self.source.drop(3)
        time.sleep(1.0)
        # Image requests are answered while the source is down.
        t0 = time.time()
        r = self.rek.detect_faces(Image={"Bytes": self.jpeg})
        self.assertTrue(r["FaceDetails"])
        self.assertLess(time.time() - t0, 30)
        d = self.rek.describe_stream_processor(Name="door")
        self.assertEqual(d["Status"], "RUNNING")
        self.assertIn("dropped", d.get("StatusMessage", ""))
        time.sleep(2.5)
        with open(self.jsonl) as f:
            before = len(f.readlines())
        # Back after the backoff: records flow again.
        deadline = time.time() + 30
        after = before
        while time.time() < deadline and after < before + 3:
            time.sleep(0.5)
            with open(self.jsonl) as f:
                after = len(f.readlines())
        self.assertGreaterEqual(after, before + 3)
        self.assertIn("source dropped", self.server.logs())
        with urllib_open(self.server.url + "/healthz") as h:
            self.assertEqual(h.status, 200)
        self.rek.stop_stream_processor(Name="door")
        self.rek.delete_stream_processor(Name="door")

    def test_connected_home_writes_objects_and_notifies(self):
        self.rek.create_stream_processor(
            Name="porch", Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
            Output={"S3Destination": {"Bucket": "home", "KeyPrefix": "events/"}}, RoleArn=ROLE,
            NotificationChannel={"SNSTopicArn": "arn:aws:sns:us-east-1:%s:home" % ACCOUNT},
            Settings={"ConnectedHome": {"Labels": ["PERSON"], "MinConfidence": 40}})
        self.rek.start_stream_processor(Name="porch")
        notes = self.hook.wait_for("/sns", 2)
        messages = [json.loads(n["Message"]) for n in notes]
        types = [m["eventNamespace"]["type"] for m in messages]
        self.assertIn("STREAM_PROCESSING_START", types)
        self.assertIn("LABEL_DETECTED", types)
        label = [m for m in messages if m["eventNamespace"]["type"] == "LABEL_DETECTED"][0]
        self.assertEqual(label["labels"][0]["name"], "PERSON")
        deadline = time.time() + 20
        objects = []
        while time.time() < deadline and not objects:
            objects = glob.glob(os.path.join(self.s3, "home", "events", "porch", "*", "*.json"))
            time.sleep(0.2)
        self.assertTrue(objects)
        with open(objects[0]) as f:
            self.assertEqual(json.load(f)["labels"][0]["name"], "PERSON")
        self.assertEqual(error_code(self.rek.update_stream_processor, Name="porch",
                                    SettingsForUpdate={"ConnectedHomeForUpdate":
                                                       {"MinConfidence": 60}})[0],
                         "ResourceInUseException")
        self.rek.stop_stream_processor(Name="porch")
        self.rek.update_stream_processor(
            Name="porch", SettingsForUpdate={"ConnectedHomeForUpdate": {"MinConfidence": 60}},
            RegionsOfInterestForUpdate=[{"BoundingBox": {"Left": 0, "Top": 0, "Width": 0.5,
                                                         "Height": 1}}])
        d = self.rek.describe_stream_processor(Name="porch")
        self.assertEqual(d["Settings"]["ConnectedHome"]["MinConfidence"], 60)
        self.assertEqual(len(d["RegionsOfInterest"]), 1)
        types = [json.loads(n["Message"])["eventNamespace"]["type"]
                 for n in self.hook.wait_for("/sns", 3)]
        self.assertIn("STREAM_PROCESSING_COMPLETE", types)
        self.rek.delete_stream_processor(Name="porch")

    def test_bad_requests_get_clear_errors(self):
        code, msg = error_code(self.rek.create_stream_processor, Name="x",
                               Input={"KinesisVideoStream": {"Arn": video_arn("nope")}},
                               Output={"KinesisDataStream": {"Arn": data_arn("hits")}},
                               RoleArn=ROLE,
                               Settings={"FaceSearch": {"CollectionId": "watch"}})
        self.assertEqual(code, "InvalidParameterException")
        self.assertIn("nope", msg)
        code, _ = error_code(self.rek.create_stream_processor, Name="x",
                             Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
                             Output={"KinesisDataStream": {"Arn": data_arn("hits")}},
                             RoleArn=ROLE, Settings={"FaceSearch": {"CollectionId": "missing"}})
        self.assertEqual(code, "ResourceNotFoundException")
        code, msg = error_code(self.rek.create_stream_processor, Name="x",
                               Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
                               Output={"S3Destination": {"Bucket": "home"}}, RoleArn=ROLE,
                               Settings={"ConnectedHome": {"Labels": ["PACKAGE"]}})
        self.assertEqual(code, "InvalidParameterException")
        self.assertIn("PACKAGE", msg)
        self.create("twice")
        self.assertEqual(error_code(self.create, name="twice")[0], "ResourceInUseException")
        self.rek.delete_stream_processor(Name="twice")
        self.assertEqual(error_code(self.rek.start_stream_processor, Name="ghost")[0],
                         "ResourceNotFoundException")
        # Another principal sees nothing of them.
        other = create_key(self.data_dir, "other", "research", "testing")
        self.create("mine")
        rek2 = client(self.server, other)
        self.assertEqual(error_code(rek2.describe_stream_processor, Name="mine")[0],
                         "ResourceNotFoundException")
        self.assertNotIn("mine", [p["Name"] for p in
                                  rek2.list_stream_processors()["StreamProcessors"]])
        self.rek.delete_stream_processor(Name="mine")


def urllib_open(url):
    import urllib.request
    return urllib.request.urlopen(url, timeout=10)


class RestartTest(unittest.TestCase):
    def test_a_running_processor_resumes_after_a_restart(self):
        with open(SAMPLE, "rb") as f:
            jpeg = f.read()
        source, hook = MjpegSource(jpeg), Hook()
        data_dir = temp_dir("argus-stream-restart-")
        args = ("--policy", "open", "--stream-source", "cam=" + source.url,
                "--stream-sink", "hits=%s/hits" % hook.base)
        server = Server(*args, data_dir=data_dir)
        try:
            rek = client(server)
            rek.create_collection(CollectionId="watch")
            rek.index_faces(CollectionId="watch", Image={"Bytes": jpeg}, MaxFaces=1)
            rek.create_stream_processor(
                Name="gate", Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
                Output={"KinesisDataStream": {"Arn": data_arn("hits")}}, RoleArn=ROLE,
                Settings={"FaceSearch": {"CollectionId": "watch"}})
            first = rek.start_stream_processor(Name="gate")["SessionId"]
            hook.wait_for("/hits", 2)
            key = (server.access_key, server.secret_key)
        finally:
            server.stop()
        server = Server(*args, data_dir=data_dir, issue_key=False)
        server.access_key, server.secret_key = key
        try:
            rek = client(server)
            n = len(hook.received("/hits"))
            got = hook.wait_for("/hits", n + 2)
            sessions = {r["StreamProcessorInformation"]["SessionId"] for r in got[n:]}
            self.assertNotIn(first, sessions)
            self.assertEqual(rek.describe_stream_processor(Name="gate")["Status"], "RUNNING")
            rek.stop_stream_processor(Name="gate")
        finally:
            server.stop()
            source.close()
            hook.httpd.shutdown()


class PolicyTest(unittest.TestCase):
    """Live face search is real-time remote biometric identification."""

    def test_presets_decide_live_face_search(self):
        with open(SAMPLE, "rb") as f:
            jpeg = f.read()
        source = MjpegSource(jpeg)
        data_dir = temp_dir("argus-stream-policy-")
        police = create_key(data_dir, "police", "law_enforcement", "investigation")
        warrant = create_key(data_dir, "police-warrant", "law_enforcement", "missing_persons",
                             "--authorisation", "WARRANT-42")
        admin = create_key(data_dir, "keeper", "research", "testing", "--admin")
        args = ("--stream-source", "cam=" + source.url, "--stream-sink", "hits=/dev/null")

        def face_search(rek, name, collection="watch"):
            return error_code(rek.create_stream_processor, Name=name,
                              Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
                              Output={"KinesisDataStream": {"Arn": data_arn("hits")}},
                              RoleArn=ROLE,
                              Settings={"FaceSearch": {"CollectionId": collection}})

        def connected_home(rek, name):
            return error_code(rek.create_stream_processor, Name=name,
                              Input={"KinesisVideoStream": {"Arn": video_arn("cam")}},
                              Output={"S3Destination": {"Bucket": "nowhere"}}, RoleArn=ROLE,
                              Settings={"ConnectedHome": {"Labels": ["PERSON"]}})

        try:
            server = Server("--policy", "moratorium-2020", *args, data_dir=data_dir,
                            issue_key=False)
            try:
                client(server, admin).create_collection(CollectionId="watch")
                code, msg = face_search(client(server, police), "p1")
                self.assertEqual(code, "AccessDeniedException")
                # A connected-home processor detects people, it does not identify them:
                # the policy lets it through and the handler answers (no S3 root here).
                code, _ = connected_home(client(server, police), "p2")
                self.assertNotEqual(code, "AccessDeniedException")
            finally:
                server.stop()
            server = Server("--policy", "eu-ai-act-art5", *args, data_dir=data_dir,
                            issue_key=False)
            try:
                code, _ = face_search(client(server, police), "e1")
                self.assertEqual(code, "AccessDeniedException")
                client(server, warrant).create_collection(CollectionId="missing-child")
                code, _ = face_search(client(server, warrant), "e2", "missing-child")
                self.assertIsNone(code)
            finally:
                server.stop()
        finally:
            source.close()


if __name__ == "__main__":
    unittest.main()
