"""Black-box tests: the real `argus serve` answered by real clients."""
import base64
import json
import os
import struct
import subprocess
import tempfile
import unittest
import zlib

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, Server

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three women, faces clearly visible


def gray_png(w, h, value=128):
    raw = b"".join(b"\x00" + bytes([value]) * (w * 3) for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "argus did not shut down cleanly on SIGTERM (rc %s)" % rc

    def detect(self, image_bytes, **extra):
        body = {"Image": {"Bytes": base64.b64encode(image_bytes).decode()}, **extra}
        return self.server.post("RekognitionService.DetectFaces", json.dumps(body))

    def test_aws_cli_detect_faces_finds_the_three_faces(self):
        r = self.server.aws("detect-faces", "--image-bytes", "fileb://" + SAMPLE)
        self.assertEqual(r.returncode, 0, r.stderr)
        faces = json.loads(r.stdout)["FaceDetails"]
        self.assertEqual(len(faces), 3)
        areas = [f["BoundingBox"]["Width"] * f["BoundingBox"]["Height"] for f in faces]
        self.assertEqual(areas, sorted(areas, reverse=True), "largest face first")
        for f in faces:
            self.assertGreater(f["Confidence"], 90)
            box = f["BoundingBox"]
            for k in ("Left", "Top", "Width", "Height"):
                self.assertGreaterEqual(box[k], 0)
                self.assertLessEqual(box[k], 1)
            types = [l["Type"] for l in f["Landmarks"]]
            self.assertEqual(sorted(types), ["eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"])
            lm = {l["Type"]: l for l in f["Landmarks"]}
            # Landmarks lie inside (or at the edge of) their face box, eyes above the mouth.
            for l in f["Landmarks"]:
                self.assertGreater(l["X"], box["Left"] - 0.02)
                self.assertLess(l["X"], box["Left"] + box["Width"] + 0.02)
            self.assertLess(lm["eyeLeft"]["X"], lm["eyeRight"]["X"] + 0.02)
            self.assertIn("Pose", f)
            self.assertIn("Quality", f)
        # The sample's faces are in its upper half.
        self.assertTrue(all(f["BoundingBox"]["Top"] < 0.5 for f in faces))

    def test_all_attributes_give_thirty_landmarks(self):
        with open(SAMPLE, "rb") as fh:
            status, _, body = self.detect(fh.read(), Attributes=["ALL"])
        self.assertEqual(status, 200, body)
        for f in body["FaceDetails"]:
            self.assertEqual(len({l["Type"] for l in f["Landmarks"]}), 30)

    def test_cli_prints_the_same_json_as_the_api(self):
        out = subprocess.run([ARGUS_BIN, "detect-faces", SAMPLE, "--model-dir", MODEL_DIR],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(SAMPLE, "rb") as fh:
            status, _, api = self.detect(fh.read())
        self.assertEqual(status, 200)
        cli = json.loads(out.stdout)
        self.assertEqual(len(cli["FaceDetails"]), len(api["FaceDetails"]))
        for a, b in zip(cli["FaceDetails"], api["FaceDetails"]):
            for k in ("Left", "Top", "Width", "Height"):
                self.assertAlmostEqual(a["BoundingBox"][k], b["BoundingBox"][k], places=5)

    def test_no_face_is_an_empty_list(self):
        status, headers, body = self.detect(gray_png(200, 150))
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"FaceDetails": []})

    def test_unknown_operation(self):
        status, headers, body = self.server.post("RekognitionService.NoSuchOperation", "{}")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "UnknownOperationException")
        self.assertIn("x-amzn-RequestId", headers)

    def test_not_json_is_invalid_parameter(self):
        status, headers, body = self.server.post("RekognitionService.DetectFaces", b"\x00\x01 not json")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidParameterException")
        self.assertTrue(body["message"])
        self.assertEqual(headers.get("Content-Type"), "application/x-amz-json-1.1")

    def test_empty_body_names_the_missing_image(self):
        status, _, body = self.server.post("RekognitionService.DetectFaces", b"")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidParameterException")
        self.assertIn("'image'", body["message"])  # AWS names members in lower camel case

    def test_aws_cli_not_an_image(self):
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(b"plain text pretending to be a photo")
            f.flush()
            r = self.server.aws("detect-faces", "--image-bytes", "fileb://" + f.name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("InvalidImageFormatException", r.stderr)

    def test_truncated_image_then_server_still_healthy(self):
        with open(SAMPLE, "rb") as fh:
            data = fh.read()
        for cut in (10, 1000, len(data) // 2):
            status, _, body = self.detect(data[:cut])
            self.assertEqual(status, 400, cut)
            self.assertEqual(body["__type"], "InvalidImageFormatException", (cut, body))
        status, _, body = self.detect(gray_png(96, 96))
        self.assertEqual(status, 200)
        # Rekognition's minimum: 80 pixels on each side.
        status, _, body = self.detect(gray_png(79, 200))
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidImageFormatException", body)
        self.assertIn("80 pixels", body["message"])

    def test_oversized_image_bytes(self):
        status, _, body = self.detect(b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024))
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "ImageTooLargeException")



def get(url):
    """GET url; (status, body text)."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Health(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_healthz_is_up(self):
        status, body = get(self.server.url + "/healthz")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))

    def test_readyz_reports_each_check(self):
        status, body = get(self.server.url + "/readyz")
        ready = json.loads(body)
        self.assertEqual(status, 200, body)
        self.assertEqual(ready["status"], "ready")
        for check in ("models", "database", "index", "queue"):
            self.assertTrue(ready[check]["ok"], (check, ready))
        self.assertEqual(ready["models"]["problems"], [])
        self.assertEqual(ready["queue"]["waiting"], 0)
        self.assertEqual(ready["queue"]["capacity"], 32)

    def test_process_and_build_metrics(self):
        self.server.post("RekognitionService.ListCollections", "{}")
        status, text = get(self.server.url + "/metrics")
        self.assertEqual(status, 200)
        version = subprocess.run([ARGUS_BIN, "--version"], capture_output=True,
                                 text=True).stdout.split()[1]
        self.assertIn('argus_build_info{version="%s"} 1\n' % version, text)
        self.assertRegex(text, r'argus_requests_total\{operation="ListCollections",code="200"\} 1')
        self.assertNotIn('status="', text)
        values = {}
        for line in text.splitlines():
            if line.startswith("process_"):
                name, value = line.split()
                values[name] = float(value)
        self.assertGreater(values["process_resident_memory_bytes"], 10 << 20)
        self.assertGreater(values["process_cpu_seconds_total"], 0)
        self.assertGreaterEqual(values["process_open_fds"], 3)
        with open("/proc/%d/stat" % self.server.proc.pid) as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(l.split()[1]) for l in f if l.startswith("btime "))
        started = boot + start_ticks / os.sysconf("SC_CLK_TCK")
        self.assertAlmostEqual(values["process_start_time_seconds"], started, delta=1)


class NotReady(unittest.TestCase):
    def test_an_altered_model_makes_readyz_503_and_says_which(self):
        models = tempfile.mkdtemp(prefix="argus-models-")
        try:
            for name in os.listdir(MODEL_DIR):
                os.symlink(os.path.join(MODEL_DIR, name), os.path.join(models, name))
            os.unlink(os.path.join(models, "nsfwjs_mobilenet_v2_mid.onnx"))
            with open(os.path.join(models, "nsfwjs_mobilenet_v2_mid.onnx"), "wb") as f:
                f.write(b"not a model")
            server = Server("--model-dir", models)
            try:
                status, body = get(server.url + "/readyz")
                faces = server.post("RekognitionService.ListCollections", "{}")
            finally:
                server.stop()
        finally:
            import shutil
            shutil.rmtree(models)
        ready = json.loads(body)
        self.assertEqual(status, 503, body)
        self.assertEqual(ready["status"], "not ready")
        self.assertFalse(ready["models"]["ok"])
        self.assertTrue(any("nsfwjs_mobilenet_v2_mid" in p for p in ready["models"]["problems"]),
                        ready)
        self.assertTrue(ready["database"]["ok"])
        self.assertEqual(faces[0], 200)  # what can run still runs

    def test_a_full_queue_makes_readyz_503_until_it_drains(self):
        import threading
        server = Server("--workers", "1", "--queue", "1")
        try:
            with open(SAMPLE, "rb") as fh:
                body = json.dumps({"Image": {"Bytes": base64.b64encode(fh.read()).decode()},
                                   "Attributes": ["ALL"]})
            done = []

            def detect():
                done.append(server.post("RekognitionService.DetectFaces", body)[0])

            seen = []
            for _ in range(5):  # rounds: one running, one waiting, the others throttled
                clients = [threading.Thread(target=detect) for _ in range(3)]
                for c in clients:
                    c.start()
                while any(c.is_alive() for c in clients):
                    status, text = get(server.url + "/readyz")
                    if status == 503:
                        seen.append(json.loads(text))
                for c in clients:
                    c.join()
                if seen:
                    break
            status, text = get(server.url + "/readyz")
        finally:
            server.stop()
        self.assertTrue(seen, "the queue was never seen full")
        self.assertFalse(seen[0]["queue"]["ok"])
        self.assertEqual(seen[0]["queue"]["waiting"], 1)
        self.assertEqual(seen[0]["queue"]["capacity"], 1)
        self.assertTrue(seen[0]["models"]["ok"] and seen[0]["database"]["ok"])
        self.assertIn(200, done)
        self.assertEqual(status, 200, text)  # drained

if __name__ == "__main__":
    unittest.main()
