"""Black-box tests of the protocol layer of the real `argus serve`: SigV4,
keys, request ids, validation wording, limits, admission control, metrics,
--no-auth, the first-start admin key and S3Object mapping."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, create_key, temp_dir
from test_server import gray_png

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")
DETECT = "RekognitionService.DetectFaces"


def tiny_request():
    return json.dumps({"Image": {"Bytes": base64.b64encode(gray_png(80, 80)).decode()}})


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3_root = tempfile.mkdtemp(prefix="argus-s3-")
        os.makedirs(os.path.join(cls.s3_root, "photos", "a"))
        shutil.copy(SAMPLE, os.path.join(cls.s3_root, "photos", "a", "one.jpg"))
        shutil.copy(SAMPLE, os.path.join(cls.s3_root, "secret.jpg"))
        os.symlink(os.path.join(cls.s3_root, "secret.jpg"),
                   os.path.join(cls.s3_root, "photos", "escape.jpg"))
        cls.server = Server("--s3-root", cls.s3_root)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.s3_root, ignore_errors=True)

    def test_signed_request_succeeds_with_request_id(self):
        status, headers, body = self.server.post(DETECT, tiny_request())
        self.assertEqual(status, 200, body)
        self.assertRegex(headers["x-amzn-RequestId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.1")

    def test_unsigned_request_is_refused(self):
        status, headers, body = self.server.post(DETECT, tiny_request(), sign=False)
        self.assertEqual(status, 403)
        self.assertEqual(body["__type"], "MissingAuthenticationTokenException")
        self.assertIn("x-amzn-RequestId", headers)

    def test_wrong_secret_is_invalid_signature(self):
        status, _, body = self.server.post(DETECT, tiny_request(), secret_key="wrong" * 8)
        self.assertEqual(status, 403)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertTrue(body["message"].startswith("The request signature we calculated does not match"))

    def test_revoked_key_stops_working_at_once(self):
        key = create_key(self.server.data_dir, "short-lived", "commercial", "photo_organization")
        kid, secret = key["AccessKeyId"], key["SecretAccessKey"]
        status, _, _ = self.server.post(DETECT, tiny_request(), access_key=kid, secret_key=secret)
        self.assertEqual(status, 200)
        out = subprocess.run([ARGUS_BIN, "keys", "revoke", kid, "--data-dir", self.server.data_dir],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        status, _, body = self.server.post(DETECT, tiny_request(), access_key=kid, secret_key=secret)
        self.assertEqual(status, 403)
        self.assertEqual(body["__type"], "UnrecognizedClientException")
        listed = json.loads(subprocess.run([ARGUS_BIN, "keys", "list", "--data-dir", self.server.data_dir],
                                           capture_output=True, text=True, timeout=30).stdout)
        entry = [k for k in listed if k["AccessKeyId"] == kid][0]
        self.assertEqual(entry["Status"], "Revoked")
        self.assertNotIn("SecretAccessKey", entry)

    def test_secrets_never_reach_the_log(self):
        self.server.post(DETECT, tiny_request(), secret_key="wrong" * 8)
        self.assertNotIn(self.server.secret_key, self.server.logs())

    def test_validation_in_aws_wording(self):
        body = json.dumps({"Image": {"Bytes": "AAAA"}, "Attributes": ["NOPE"], "UnknownField": 1})
        status, _, out = self.server.post(DETECT, body)
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "InvalidParameterException")
        self.assertTrue(out["message"].startswith(
            "1 validation error detected: Value '[NOPE]' at 'attributes' failed to satisfy constraint:"),
            out["message"])
        status, _, out = self.server.post(DETECT, json.dumps({"Image": {"Bytes": 7}}))
        self.assertEqual((status, out["__type"]), (400, "SerializationException"))
        self.assertIn("'image.bytes'", out["message"])

    def test_health_metrics_and_not_found_carry_request_ids(self):
        for path, want in (("/healthz", 200), ("/metrics", 200), ("/nope", 404)):
            status, headers, _ = get(self.server.url + path)
            self.assertEqual(status, want, path)
            self.assertIn("x-amzn-RequestId", headers, path)

    def test_metrics_count_requests_errors_and_latency(self):
        self.server.post(DETECT, tiny_request())
        self.server.post(DETECT, "{}")
        _, _, text = get(self.server.url + "/metrics")
        self.assertRegex(text, r'argus_requests_total\{operation="DetectFaces",code="200"\} [1-9]')
        self.assertRegex(text, r'argus_errors_total\{operation="DetectFaces",type="InvalidParameterException"\} [1-9]')
        self.assertRegex(text, r'argus_request_duration_seconds_bucket\{operation="DetectFaces",le="\+Inf"\} [1-9]')
        for name in ("argus_queue_depth", "argus_requests_in_progress", "argus_faces_indexed_total"):
            self.assertIn("\n" + name + " ", text)

    def test_body_over_the_cap_is_refused(self):
        status, headers, body = self.server.post(DETECT, b"{" + b" " * (9 * 1024 * 1024) + b"}", sign=False)
        self.assertEqual(status, 413)
        self.assertEqual(body["__type"], "ImageTooLargeException")
        self.assertIn("x-amzn-RequestId", headers)

    def s3(self, bucket, name):
        return self.server.post(DETECT, json.dumps({"Image": {"S3Object": {"Bucket": bucket, "Name": name}}}))

    def test_s3object_maps_to_the_bucket_directory(self):
        status, _, body = self.s3("photos", "a/one.jpg")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["FaceDetails"]), 3)

    def test_s3object_refuses_traversal_and_missing_objects(self):
        for bucket, name in (("photos", "../secret.jpg"), ("photos", "a/../../secret.jpg"),
                             ("photos", "/etc/passwd"), ("photos", "escape.jpg"),
                             ("photos", "a/missing.jpg"), ("nobucket", "a/one.jpg"),
                             ("photos", "a")):
            status, _, body = self.s3(bucket, name)
            self.assertEqual((status, body["__type"]), (400, "InvalidS3ObjectException"), (name, body))
        status, _, body = self.s3("..", "secret.jpg")  # fails the model's bucket length first
        self.assertEqual(body["__type"], "InvalidParameterException")


class LimitsTest(unittest.TestCase):
    def test_full_queue_answers_throttling(self):
        server = Server("--workers", "1", "--queue", "1")
        try:
            with open(SAMPLE, "rb") as f:
                body = json.dumps({"Image": {"Bytes": base64.b64encode(f.read()).decode()}})
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda _: server.post(DETECT, body), range(8)))
            codes = sorted((s, b.get("__type", "")) for s, _, b in results)
            self.assertIn((200, ""), codes)
            self.assertIn((500, "ThrottlingException"), codes, codes)
            status, _, _ = server.post(DETECT, body)  # and it recovers
            self.assertEqual(status, 200)
        finally:
            server.stop()

    def test_no_auth_accepts_unsigned_and_says_so(self):
        server = Server("--no-auth")
        try:
            status, _, body = server.post(DETECT, tiny_request(), sign=False)
            self.assertEqual(status, 200, body)
            self.assertIn("AUTHENTICATION IS DISABLED", server.logs())
        finally:
            server.stop()

    def test_first_start_creates_an_admin_key_usable_by_the_aws_cli(self):
        data_dir = temp_dir("argus-fresh-")
        server = Server(data_dir=data_dir, issue_key=False)  # no key yet: a fresh start
        try:
            logs = server.logs()
            self.assertIn("created the admin access key", logs)
            creds = os.path.join(data_dir, "admin-credentials")
            self.assertEqual(os.stat(creds).st_mode & 0o777, 0o600)
            env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=creds, AWS_PROFILE="argus",
                       AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_PAGER="")
            env.pop("AWS_ACCESS_KEY_ID", None)
            env.pop("AWS_SECRET_ACCESS_KEY", None)
            out = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.url, "rekognition",
                                  "detect-faces", "--image-bytes", "fileb://" + SAMPLE],
                                 capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(len(json.loads(out.stdout)["FaceDetails"]), 3)
            with open(creds) as f:
                secret = [l.split("=", 1)[1].strip() for l in f if "secret" in l][0]
            self.assertEqual(logs.count(secret), 0, "the secret is printed")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
