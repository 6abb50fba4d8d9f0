"""Compatibility suite: Debian's aws CLI v2, Debian's boto3 and the AWS SDK for
JavaScript v3 (@aws-sdk/client-rekognition from npm, see package-lock.json)
run every case of cases.py against the real `argus serve`, signed with an
issued key, and check the parsed results and error codes. Then: a wrong
secret fails as each client expects, and each client's own retry logic
recovers from throttling."""
import os
import re
import shutil
import sys
import tempfile
import unittest
import urllib.request
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Server, create_key  # noqa: E402
from cases import CASES, SAMPLE, Context, gray_png  # noqa: E402
from clients import CLIENTS, Blob  # noqa: E402

S3_BUCKET = "compat-photos"


def metric(server, name, **labels):
    """Sum of a Prometheus counter's samples matching `labels`."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


class CompatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        warnings.simplefilter("ignore", ResourceWarning)  # boto3 keeps its pool open
        if not os.path.isdir(os.path.join(HERE, "node_modules", "@aws-sdk", "client-rekognition")):
            raise RuntimeError("tests/compat/node_modules is missing: run `npm ci` in tests/compat "
                               "(ctest's compat.npm fixture does)")
        cls.s3_root = tempfile.mkdtemp(prefix="argus-s3-")
        os.makedirs(os.path.join(cls.s3_root, S3_BUCKET, "people"))
        shutil.copy(SAMPLE, os.path.join(cls.s3_root, S3_BUCKET, "people", "sample1.jpg"))
        shutil.copy(SAMPLE, os.path.join(cls.s3_root, "outside.jpg"))  # outside every bucket
        cls.server = Server("--s3-root", cls.s3_root, "--workers", "2")
        # A second principal limited to 1 request/s for the throttling test.
        key = create_key(cls.server.data_dir, "throttled", "research", "testing", "--rate-limit", "1")
        cls.throttled = (key["AccessKeyId"], key["SecretAccessKey"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.s3_root, ignore_errors=True)

    def client(self, cls, access_key=None, secret_key=None, max_attempts=3):
        return cls(self.server.url, access_key or self.server.access_key,
                   secret_key or self.server.secret_key, max_attempts)

    def test_every_case_with_every_client(self):
        ran = {}
        for cls in CLIENTS:
            client = self.client(cls)
            ctx = Context(client.name, S3_BUCKET)
            rows = [c for c in CASES if client.name in c.clients and client.knows(c.operation)]
            results = client.run([(c.operation, c.request(ctx)) for c in rows])
            for case, r in zip(rows, results):
                with self.subTest(client=client.name, case=case.name):
                    if case.error:
                        self.assertFalse(r.ok, "%s: expected %s, got success" % (case.name, case.error))
                        self.assertEqual(r.code, case.error, r.message)
                    else:
                        self.assertTrue(r.ok, "%s: %s %s" % (case.name, r.code, r.message))
                        if case.check:
                            case.check(r.output, ctx)
            ran[client.name] = len(rows)
        for name in ("aws-cli", "boto3", "js-sdk"):
            self.assertGreater(ran.get(name, 0), 0, name)

    def test_wrong_secret_and_unknown_key(self):
        call = ("DetectFaces", {"Image": {"Bytes": Blob(gray_png(80, 80))}})
        for cls in CLIENTS:
            with self.subTest(client=cls.name):
                r = self.client(cls, secret_key="x" * 40).run([call])[0]
                self.assertFalse(r.ok)
                self.assertEqual(r.code, "InvalidSignatureException", r.message)
                self.assertIn("does not match the signature you provided", r.message)
                r = self.client(cls, access_key="AKAGUNKNOWNKEY000000").run([call])[0]
                self.assertEqual(r.code, "UnrecognizedClientException", r.message)

    def test_each_client_retries_through_throttling(self):
        # 3 calls at once against 1 request/s: the server refuses most with
        # ProvisionedThroughputExceededException; each client's standard retry
        # mode backs off and retries until every call succeeds.
        calls = [("DetectFaces", {"Image": {"Bytes": Blob(gray_png(96, 96))}})] * 3
        for cls in CLIENTS:
            with self.subTest(client=cls.name):
                before = metric(self.server, "argus_errors_total",
                                type="ProvisionedThroughputExceededException")
                client = self.client(cls, *self.throttled, max_attempts=10)
                results = client.run(calls, parallel=True)
                after = metric(self.server, "argus_errors_total",
                               type="ProvisionedThroughputExceededException")
                for r in results:
                    self.assertTrue(r.ok, "%s: %s %s" % (cls.name, r.code, r.message))
                self.assertGreater(after - before, 0, "the server throttled nothing")
                if cls.name != "aws-cli":  # the CLI does not report attempts on success
                    self.assertGreater(sum(r.attempts for r in results), len(calls))


if __name__ == "__main__":
    unittest.main()
