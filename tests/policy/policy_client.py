"""Signed requests for the policy tests: keys of given organisation types,
the X-Argus-Purpose / X-Argus-Case-Id headers, and the audit log as exported
by `argus audit export`."""
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, create_key  # noqa: E402,F401

SAMPLE = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in range(1, 7)]


def image(path):
    with open(path, "rb") as f:
        return {"Bytes": base64.b64encode(f.read()).decode()}


class Client:
    """One principal's access key against a running server. Every call's
    request id is kept in `calls` with its operation, so a test can check
    that the audit log holds each audited one."""

    def __init__(self, server, name, org_type, purpose, *extra):
        key = create_key(server.data_dir, name, org_type, purpose, *extra)
        self.server, self.name = server, name
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        self.calls = []

    def call(self, op, body, purpose=None, case_id=None):
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": "RekognitionService." + op}
        if purpose:
            headers["X-Argus-Purpose"] = purpose
        if case_id:
            headers["X-Argus-Case-Id"] = case_id
        req = AWSRequest(method="POST", url=self.server.url + "/", data=data, headers=headers)
        SigV4Auth(Credentials(self.access_key, self.secret_key), "rekognition",
                  "us-east-1").add_auth(req)
        r = urllib.request.Request(self.server.url + "/", data=data,
                                   headers=dict(req.headers.items()), method="POST")
        try:
            with urllib.request.urlopen(r, timeout=120) as resp:
                status, hdrs, out = resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            status, hdrs, out = e.code, dict(e.headers), json.loads(e.read() or b"{}")
        message = out.get("message", "") if isinstance(out, dict) else ""
        # Audited: every policy denial or constraint, and every call of an
        # audited operation, valid or not; never an operation argus does not
        # implement, nor a request refused for its argus headers.
        audited = message.startswith("Denied by") or "X-Argus-Policy-Constraints" in hdrs or (
            op in AUDITED and out.get("__type") != "UnknownOperationException"
            and not message.startswith("X-Argus-"))
        self.calls.append((op, hdrs.get("x-amzn-RequestId"), audited))
        return status, hdrs, out

    def boto3(self, purpose=None, case_id=None):
        """A boto3 client whose requests carry the argus headers, added by a
        before-sign hook exactly as the README shows."""
        import boto3
        client = boto3.client("rekognition", endpoint_url=self.server.url, region_name="us-east-1",
                              aws_access_key_id=self.access_key,
                              aws_secret_access_key=self.secret_key)

        def add_headers(request, **kwargs):
            if purpose:
                request.headers["X-Argus-Purpose"] = purpose
            if case_id:
                request.headers["X-Argus-Case-Id"] = case_id

        client.meta.events.register("before-sign.rekognition.*", add_headers)
        return client


def argus(*args, check=True):
    out = subprocess.run([ARGUS_BIN, *args], capture_output=True, text=True, timeout=120)
    if check and out.returncode != 0:
        raise AssertionError("argus %s failed (%d): %s" % (" ".join(args), out.returncode,
                                                          out.stderr))
    return out


def audit_records(data_dir):
    out = argus("audit", "export", "--format", "jsonl", "--data-dir", data_dir)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


AUDITED = {"SearchFaces", "SearchFacesByImage", "SearchUsers", "SearchUsersByImage", "IndexFaces",
           "AssociateFaces", "CompareFaces", "DeleteFaces", "DeleteCollection", "DeleteUser",
           # FaceSearch stream processors (realtime identification)
           "CreateStreamProcessor", "StartStreamProcessor", "UpdateStreamProcessor"}


def share(server, collection, *principals):
    """Shares a collection with other principals (full access) on the data dir."""
    for p in principals:
        argus("collections", "share", collection, "--with", p, "--data-dir", server.data_dir)


def assert_all_audited(test, clients, data_dir, require_some=True):
    """Every audited call of these clients (face search, enrollment,
    verification, realtime identification, erasure, and every policy denial)
    is in the log exactly once with its principal and operation, no other
    call is, and the log verifies."""
    records = audit_records(data_dir)
    by_id = {}
    for r in records:
        if r["request_id"]:
            by_id.setdefault(r["request_id"], []).append(r)
    audited = 0
    for c in clients:
        for op, rid, expected in c.calls:
            if expected:
                audited += 1
                test.assertIn(rid, by_id, "%s %s by %s is not in the audit log" % (op, rid, c.name))
                test.assertEqual(len(by_id[rid]), 1, rid)
                test.assertEqual(by_id[rid][0]["principal"], c.name)
                test.assertEqual(by_id[rid][0]["operation"], op)
            else:
                test.assertNotIn(rid, by_id, "%s %s should not be audited" % (op, rid))
    if require_some:
        test.assertGreater(audited, 0)
    v = argus("audit", "verify", "--data-dir", data_dir)
    test.assertIn("audit log verified", v.stdout)
    return records, audited
