"""The three real clients of the compatibility suite, behind one interface.

Each client runs a list of calls (operation name + request parameters as the
API reference writes them) against an endpoint and returns, per call, a
Result: the parsed output or the error code the client reports. Blob
parameters are written as Blob(bytes) and handed to each client in its own
form (raw bytes for boto3, base64 in --cli-input-json for the aws CLI,
Uint8Array for the JS SDK).
"""
import base64
import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
import botocore.config
import botocore.exceptions
from botocore import xform_name

HERE = os.path.dirname(os.path.abspath(__file__))
AWS_CLI = "/usr/bin/aws"  # Debian's awscli (v2)
REGION = "eu-west-1"      # any region is accepted


class Blob:
    def __init__(self, data):
        self.data = data


@dataclass
class Result:
    ok: bool
    output: dict = field(default_factory=dict)
    code: str = ""
    message: str = ""
    attempts: int = 1  # as far as the client tells


def _walk(v, blob):
    if isinstance(v, Blob):
        return blob(v.data)
    if isinstance(v, dict):
        return {k: _walk(x, blob) for k, x in v.items()}
    if isinstance(v, list):
        return [_walk(x, blob) for x in v]
    return v


class Boto3Client:
    name = "boto3"

    def __init__(self, endpoint, access_key, secret_key, max_attempts=3):
        self.client = boto3.session.Session().client(
            "rekognition", endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=botocore.config.Config(retries={"mode": "standard", "max_attempts": max_attempts}))

    def knows(self, operation):
        return operation in self.client.meta.service_model.operation_names

    def call(self, operation, params):
        try:
            out = getattr(self.client, xform_name(operation))(**_walk(params, lambda b: b))
            meta = out.pop("ResponseMetadata", {})
            return Result(True, out, attempts=meta.get("RetryAttempts", 0) + 1)
        except botocore.exceptions.ClientError as e:
            meta = e.response.get("ResponseMetadata", {})
            return Result(False, code=e.response["Error"]["Code"],
                          message=e.response["Error"].get("Message", ""),
                          attempts=meta.get("RetryAttempts", 0) + 1)

    def run(self, calls, parallel=False):
        if parallel:
            with ThreadPoolExecutor(len(calls)) as pool:
                return list(pool.map(lambda c: self.call(*c), calls))
        return [self.call(op, p) for op, p in calls]


class AwsCliClient:
    name = "aws-cli"
    _ERROR = re.compile(r"An error occurred \((\w+)\)(?: when calling the \w+ operation)?"
                        r"(?: \(reached max retries: (\d+)\))?: (.*)", re.S)

    def __init__(self, endpoint, access_key, secret_key, max_attempts=3):
        self.endpoint = endpoint
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key,
                        AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
                        AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_RETRY_MODE="standard",
                        AWS_MAX_ATTEMPTS=str(max_attempts))
        self.env.pop("AWS_PROFILE", None)
        self.env.pop("AWS_SESSION_TOKEN", None)

    def knows(self, operation):
        return Boto3Client("http://x", "a", "b").knows(operation)  # the CLI uses the same model

    def call(self, operation, params):
        # Blobs in --cli-input-json are base64 (the CLI v2 default binary format).
        doc = _walk(params, lambda b: base64.b64encode(b).decode())
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(doc, f)
        try:
            p = subprocess.run([AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json",
                                "rekognition", xform_name(operation, "-"),
                                "--cli-input-json", "file://" + f.name],
                               capture_output=True, text=True, env=self.env, timeout=120)
        finally:
            os.unlink(f.name)
        if p.returncode == 0:
            return Result(True, json.loads(p.stdout or "{}"))
        m = self._ERROR.search(p.stderr)
        if not m:
            return Result(False, code="CliFailure", message=p.stderr.strip())
        retries = int(m.group(2)) if m.group(2) else 0
        return Result(False, code=m.group(1), message=m.group(3).strip(), attempts=retries + 1)

    def run(self, calls, parallel=False):
        if parallel:
            with ThreadPoolExecutor(len(calls)) as pool:
                return list(pool.map(lambda c: self.call(*c), calls))
        return [self.call(op, p) for op, p in calls]


class JsSdkClient:
    name = "js-sdk"

    def __init__(self, endpoint, access_key, secret_key, max_attempts=3):
        self.cfg = {"endpoint": endpoint, "region": REGION, "accessKeyId": access_key,
                    "secretAccessKey": secret_key, "maxAttempts": max_attempts}

    def knows(self, operation):
        return True  # the SDK from npm knows every current operation

    def run(self, calls, parallel=False):
        req = dict(self.cfg, parallel=parallel, calls=[
            {"operation": op, "params": _walk(p, lambda b: {"__bytes_b64__": base64.b64encode(b).decode()})}
            for op, p in calls])
        p = subprocess.run(["node", os.path.join(HERE, "js_runner.mjs")], input=json.dumps(req),
                           capture_output=True, text=True, cwd=HERE, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("js_runner failed: " + p.stderr)
        out = []
        for r in json.loads(p.stdout):
            if r["ok"]:
                out.append(Result(True, r["output"], attempts=r.get("attempts") or 1))
            else:
                out.append(Result(False, code=r["code"], message=r.get("message", ""),
                                  attempts=r.get("attempts") or 1))
        return out

    def call(self, operation, params):
        return self.run([(operation, params)])[0]


CLIENTS = [AwsCliClient, Boto3Client, JsSdkClient]
