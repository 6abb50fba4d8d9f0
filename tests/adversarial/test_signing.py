"""Headers argus acts on must be covered by the SigV4 signature: a request
signed without X-Amz-Target or an X-Argus-* header in SignedHeaders could be
re-targeted or re-purposed after signing by whoever relays it."""
import json
import unittest
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import Server

PREFIX = "RekognitionService."


class PartialSigner(SigV4Auth):
    """botocore's signer, leaving the named headers out of SignedHeaders."""

    def __init__(self, credentials, leave_out):
        super().__init__(credentials, "rekognition", "us-east-1")
        self.leave_out = {h.lower() for h in leave_out}

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        for name in self.leave_out:
            if name in headers:
                del headers[name]
        return headers


def send(server, headers, body):
    req = urllib.request.Request(server.url + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def signed_headers(server, op, body, leave_out=(), extra=None):
    """Headers of a request for `op` signed with the server's key, with the
    headers in `leave_out` present but not signed."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": PREFIX + op}
    headers.update(extra or {})
    req = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    PartialSigner(Credentials(server.access_key, server.secret_key), leave_out).add_auth(req)
    return dict(req.headers.items())


class SignedHeadersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--policy", "open")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        status, _, body = self.server.post(PREFIX + "CreateCollection",
                                           json.dumps({"CollectionId": "victim"}))
        if status != 200:
            self.assertEqual(body["__type"], "ResourceAlreadyExistsException", body)

    def assert_collection_exists(self):
        status, _, body = self.server.post(PREFIX + "DescribeCollection",
                                           json.dumps({"CollectionId": "victim"}))
        self.assertEqual(status, 200, body)

    def assert_unsigned_refused(self, status, body, header):
        self.assertEqual(status, 403, body)
        self.assertEqual(body["__type"], "InvalidSignatureException", body)
        self.assertIn(header, body["message"].lower())

    def test_unsigned_target_cannot_turn_describe_into_delete(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DescribeCollection", body,
                                 leave_out=["X-Amz-Target"])
        headers["X-Amz-Target"] = PREFIX + "DeleteCollection"  # swapped after signing
        status, answer = send(self.server, headers, body)
        self.assert_unsigned_refused(status, answer, "x-amz-target")
        self.assert_collection_exists()

    def test_unsigned_target_is_refused_even_unchanged(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DescribeCollection", body,
                                 leave_out=["X-Amz-Target"])
        status, answer = send(self.server, headers, body)
        self.assert_unsigned_refused(status, answer, "x-amz-target")

    def test_signed_target_swapped_is_a_signature_mismatch(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DescribeCollection", body)
        headers["X-Amz-Target"] = PREFIX + "DeleteCollection"
        status, answer = send(self.server, headers, body)
        self.assertEqual((status, answer["__type"]), (403, "InvalidSignatureException"), answer)
        self.assert_collection_exists()

    def test_unsigned_purpose_header_is_refused(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DescribeCollection", body,
                                 leave_out=["X-Argus-Purpose"],
                                 extra={"X-Argus-Purpose": "testing"})
        headers["X-Argus-Purpose"] = "investigation"  # swapped after signing
        status, answer = send(self.server, headers, body)
        self.assert_unsigned_refused(status, answer, "x-argus-purpose")

    def test_unsigned_purpose_added_after_signing_is_refused(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DeleteCollection", body)
        headers["X-Argus-Purpose"] = "testing"
        status, answer = send(self.server, headers, body)
        self.assert_unsigned_refused(status, answer, "x-argus-purpose")
        self.assert_collection_exists()

    def test_unsigned_case_id_header_is_refused(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DescribeCollection", body,
                                 leave_out=["X-Argus-Case-Id"],
                                 extra={"X-Argus-Case-Id": "case-1"})
        status, answer = send(self.server, headers, body)
        self.assert_unsigned_refused(status, answer, "x-argus-case-id")

    def test_signed_argus_headers_are_accepted(self):
        body = json.dumps({"CollectionId": "victim"}).encode()
        headers = signed_headers(self.server, "DescribeCollection", body,
                                 extra={"X-Argus-Purpose": "testing",
                                        "X-Argus-Case-Id": "case-1"})
        status, answer = send(self.server, headers, body)
        self.assertEqual(status, 200, answer)

    def test_boto3_before_sign_hook_as_the_readme_shows_still_works(self):
        import boto3
        client = boto3.client("rekognition", endpoint_url=self.server.url,
                              region_name="us-east-1",
                              aws_access_key_id=self.server.access_key,
                              aws_secret_access_key=self.server.secret_key)

        def argus_headers(request, **kwargs):
            request.headers["X-Argus-Purpose"] = "testing"
            request.headers["X-Argus-Case-Id"] = "case-2026/0042"

        client.meta.events.register("before-sign.rekognition.*", argus_headers)
        out = client.describe_collection(CollectionId="victim")
        self.assertEqual(out["FaceCount"], 0)

    def test_aws_cli_still_works(self):
        out = self.server.aws("describe-collection", "--collection-id", "victim")
        self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
