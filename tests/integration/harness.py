"""Starts the real argus binary on a free port for black-box tests."""
import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ARGUS_BIN = os.environ.get("ARGUS_BIN", os.path.join(os.path.dirname(__file__), "../../build/argus"))
MODEL_DIR = os.environ.get("ARGUS_MODEL_DIR") or os.path.expanduser("~/.cache/argus/models")
FACEAPI_DEMO = os.path.join(MODEL_DIR, "packages/face-api/package/demo")
# Debian's aws CLI (v2) when installed; a PATH lookup otherwise.
AWS_CLI = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws"


# Temporary folders and files made for the tests, removed when the test
# process exits (servers are restarted on the same data dir, so not before).
_TEMPORARY = []


@atexit.register
def _remove_temporary():
    for path in _TEMPORARY:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.unlink(path)


def temp_dir(prefix):
    """A new temporary folder, removed when the test process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    _TEMPORARY.append(path)
    return path


DEBIAN_MODEL = "/usr/lib/python3/dist-packages/botocore/data/rekognition/2016-06-27/service-2.json"


def client_model_dir(*supplements):
    """A botocore data folder whose Rekognition model is Debian's plus the
    operations and shapes of each supplement (tools/rekognition/*.json, the
    files the server's validators are generated from); insert it first in a
    session's data_loader search paths."""
    with open(DEBIAN_MODEL) as f:
        model = json.load(f)
    for path in supplements:
        with open(path) as f:
            extra = json.load(f)
        model["operations"].update(extra["operations"])
        model["shapes"].update(extra["shapes"])
    root = temp_dir("argus-botocore-")
    folder = os.path.join(root, "rekognition", "2016-06-27")
    os.makedirs(folder)
    with open(os.path.join(folder, "service-2.json"), "w") as f:
        json.dump(model, f)
    return root


def _transcribe(target, data, status, raw):
    """With ARGUS_TRANSCRIPT=FILE, appends each request and its raw answer to
    FILE (tests/replay/compare_transcripts.py compares two such files)."""
    path = os.environ.get("ARGUS_TRANSCRIPT")
    if not path:
        return
    import hashlib
    with open(path, "a") as f:
        f.write(json.dumps({"target": target, "request_sha256": hashlib.sha256(data).hexdigest(),
                            "status": status, "body": raw.decode(errors="replace")}) + "\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_key(data_dir, name="integration", org_type="research", purpose="testing", *extra):
    """Issues an access key with `argus keys create`; returns its JSON object."""
    out = subprocess.run([ARGUS_BIN, "keys", "create", "--name", name, "--org-type", org_type,
                          "--purpose", purpose, "--data-dir", data_dir, *extra],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("argus keys create failed: " + out.stderr)
    return json.loads(out.stdout)


class Server:
    """The real `argus serve`. Unless started with --no-auth, an access key is
    issued in its data dir first and post()/aws() sign with it."""

    def __init__(self, *extra_args, data_dir=None, issue_key=True):
        self.port = free_port()
        self.data_dir = data_dir or temp_dir("argus-test-")
        self.log = tempfile.NamedTemporaryFile(prefix="argus-log-", delete=False)
        _TEMPORARY.append(self.log.name)
        self.access_key = self.secret_key = None
        if issue_key and "--no-auth" not in extra_args:
            key = create_key(self.data_dir)
            self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        self.proc = subprocess.Popen(
            [ARGUS_BIN, "serve", "--port", str(self.port), "--data-dir", self.data_dir,
             "--model-dir", MODEL_DIR, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = "http://127.0.0.1:%d" % self.port
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("argus exited early: " + self.logs())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("argus did not become healthy: " + self.logs())

    def logs(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def post(self, target, body, content_type="application/x-amz-json-1.1", sign=True,
             access_key=None, secret_key=None, region="us-east-1"):
        """Raw POST /, SigV4-signed with the server's key (or the one given)
        unless sign=False; returns (status, headers, parsed JSON body)."""
        data = body if isinstance(body, bytes) else body.encode()
        headers = {"Content-Type": content_type}
        if target is not None:
            headers["X-Amz-Target"] = target
        access_key, secret_key = access_key or self.access_key, secret_key or self.secret_key
        if sign and access_key:
            aws_req = AWSRequest(method="POST", url=self.url + "/", data=data, headers=headers)
            SigV4Auth(Credentials(access_key, secret_key), "rekognition", region).add_auth(aws_req)
            headers = dict(aws_req.headers.items())
        req = urllib.request.Request(self.url + "/", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw, status, out_headers = r.read(), r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            raw, status, out_headers = e.read(), e.code, dict(e.headers)
        _transcribe(target, data, status, raw)
        return status, out_headers, json.loads(raw or b"{}")

    def aws(self, *args, access_key=None, secret_key=None):
        """Runs Debian's aws CLI against this server, signed with the server's
        key (or the one given); returns CompletedProcess."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key or self.access_key or "unsigned",
                   AWS_SECRET_ACCESS_KEY=secret_key or self.secret_key or "unsigned",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        return subprocess.run([AWS_CLI, "--endpoint-url", self.url, "--output", "json",
                               "rekognition", *args], capture_output=True, text=True, env=env,
                              timeout=120)
