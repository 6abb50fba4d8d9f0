"""Tenancy through the real server: a collection belongs to the principal
that created it; admins see and manage all; shares are explicit
(`argus collections share|unshare|chown`). Another principal's collection
answers exactly as a missing one."""
import base64
import json
import os
import subprocess
import unittest

import harness
from harness import ARGUS_BIN, FACEAPI_DEMO, Server, create_key

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")
ARN = "arn:aws:rekognition:us-east-1:000000000000:collection/"


def image():
    with open(SAMPLE, "rb") as f:
        return {"Bytes": base64.b64encode(f.read()).decode()}


def argus(*args):
    out = subprocess.run([ARGUS_BIN, *args], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("argus %s: %s" % (" ".join(args), out.stderr))
    return out.stdout


class Key:
    def __init__(self, server, name, *extra):
        k = create_key(server.data_dir, name, "research", "research", *extra)
        self.server, self.ak, self.sk = server, k["AccessKeyId"], k["SecretAccessKey"]

    def call(self, op, body):
        return self.server.post("RekognitionService." + op, json.dumps(body), access_key=self.ak,
                                secret_key=self.sk)


class Tenancy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        s = cls.server
        cls.owner, cls.other, cls.admin = Key(s, "alice"), Key(s, "bob"), Key(s, "root", "--admin")
        cls.reader, cls.partner = Key(s, "carol"), Key(s, "dave")
        for c in ("t-alice", "t-alice-2", "t-alice-3"):
            status, _, out = cls.owner.call("CreateCollection", {"CollectionId": c})
            assert status == 200, out
        assert cls.other.call("CreateCollection", {"CollectionId": "t-bob"})[0] == 200
        status, _, out = cls.owner.call("IndexFaces", {"CollectionId": "t-alice", "Image": image(),
                                                       "MaxFaces": 1})
        assert status == 200 and len(out["FaceRecords"]) == 1, out
        cls.face_id = out["FaceRecords"][0]["Face"]["FaceId"]
        d = s.data_dir
        argus("collections", "share", "t-alice", "--with", "carol", "--read-only", "--data-dir", d)
        argus("collections", "share", "t-alice", "--with", "dave", "--data-dir", d)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def ids(self, key, **body):
        status, _, out = key.call("ListCollections", body)
        self.assertEqual(status, 200, out)
        return out

    def requests(self, c):
        """One request per collection operation against collection `c`, and
        whether it changes the collection."""
        return [
            ("DescribeCollection", {"CollectionId": c}, False),
            ("ListFaces", {"CollectionId": c}, False),
            ("SearchFaces", {"CollectionId": c, "FaceId": self.face_id}, False),
            ("SearchFacesByImage", {"CollectionId": c, "Image": image()}, False),
            ("ListTagsForResource", {"ResourceArn": ARN + c}, False),
            ("TagResource", {"ResourceArn": ARN + c, "Tags": {"team": "x"}}, True),
            ("UntagResource", {"ResourceArn": ARN + c, "TagKeys": ["team"]}, True),
            ("IndexFaces", {"CollectionId": c, "Image": image(), "MaxFaces": 1}, True),
            ("DeleteFaces", {"CollectionId": c, "FaceIds": ["11111111-1111-4111-8111-111111111111"]},
             True),
        ]

    def test_another_principals_collection_answers_as_a_missing_one(self):
        for op, body, _ in self.requests("t-alice"):
            status, _, theirs = self.other.call(op, body)
            missing_body = json.loads(json.dumps(body).replace("t-alice", "t-nobody"))
            status2, _, missing = self.other.call(op, missing_body)
            self.assertEqual((status, theirs.get("__type")), (400, "ResourceNotFoundException"),
                             (op, theirs))
            self.assertEqual(theirs["message"].replace("t-alice", "t-nobody"), missing["message"], op)
            self.assertEqual(status2, 400)
        status, _, out = self.other.call("DeleteCollection", {"CollectionId": "t-alice"})
        self.assertEqual(out.get("__type"), "ResourceNotFoundException", out)
        self.assertEqual(self.owner.call("DescribeCollection", {"CollectionId": "t-alice"})[0], 200)
        # CreateCollection of a taken id is the one unavoidable exception.
        status, _, out = self.other.call("CreateCollection", {"CollectionId": "t-alice"})
        self.assertEqual(out.get("__type"), "ResourceAlreadyExistsException", out)

    def test_list_collections_shows_only_what_the_caller_may_see(self):
        self.assertEqual(self.ids(self.other)["CollectionIds"], ["t-bob"])
        mine = self.ids(self.owner)["CollectionIds"]
        self.assertEqual([c for c in mine if c.startswith("t-")], ["t-alice", "t-alice-2", "t-alice-3"])
        self.assertIn("t-alice", self.ids(self.reader)["CollectionIds"])
        self.assertNotIn("t-alice-2", self.ids(self.reader)["CollectionIds"])
        every = self.ids(self.admin)["CollectionIds"]
        self.assertTrue({"t-alice", "t-alice-2", "t-bob"} <= set(every), every)

    def test_filtering_keeps_pagination_whole(self):
        seen, token = [], None
        for _ in range(10):
            body = {"MaxResults": 1}
            if token:
                body["NextToken"] = token
            out = self.ids(self.owner, **body)
            self.assertLessEqual(len(out["CollectionIds"]), 1)
            seen += out["CollectionIds"]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual([c for c in seen if c.startswith("t-")], ["t-alice", "t-alice-2", "t-alice-3"])
        out = self.ids(self.other, MaxResults=1)
        self.assertEqual(out["CollectionIds"], ["t-bob"])
        self.assertNotIn("NextToken", out)  # nothing visible after t-bob

    def test_owner_full_share_and_admin_may_do_everything(self):
        for key in (self.owner, self.partner, self.admin):
            for op, body, _ in self.requests("t-alice"):
                status, _, out = key.call(op, body)
                self.assertEqual(status, 200, (op, out))

    def test_read_only_share_reads_but_does_not_change(self):
        for op, body, changes in self.requests("t-alice"):
            status, _, out = self.reader.call(op, body)
            if changes:
                self.assertEqual(out.get("__type"), "AccessDeniedException", (op, out))
                self.assertIn("read-only", out["message"])
            else:
                self.assertEqual(status, 200, (op, out))
        status, _, out = self.reader.call("DeleteCollection", {"CollectionId": "t-alice"})
        self.assertEqual(out.get("__type"), "AccessDeniedException", out)

    def test_unshare_and_chown(self):
        d = self.server.data_dir
        self.assertEqual(self.other.call("DescribeCollection", {"CollectionId": "t-alice-3"})[0], 400)
        argus("collections", "share", "t-alice-3", "--with", "bob", "--data-dir", d)
        self.assertEqual(self.other.call("DescribeCollection", {"CollectionId": "t-alice-3"})[0], 200)
        argus("collections", "unshare", "t-alice-3", "--with", "bob", "--data-dir", d)
        self.assertEqual(self.other.call("DescribeCollection", {"CollectionId": "t-alice-3"})[0], 400)
        owners = json.loads(argus("collections", "chown", "t-alice-3", "--to", "bob",
                                  "--data-dir", d))
        self.assertEqual(owners["Grants"], [{"Principal": "bob", "Access": "owner"}])
        self.assertEqual(self.other.call("DescribeCollection", {"CollectionId": "t-alice-3"})[0], 200)
        self.assertEqual(self.owner.call("DescribeCollection", {"CollectionId": "t-alice-3"})[0], 400)

    def test_z_delete_removes_the_grants(self):
        status, _, out = self.owner.call("DeleteCollection", {"CollectionId": "t-alice-2"})
        self.assertEqual(status, 200, out)
        owners = json.loads(argus("collections", "owners", "t-bob", "--data-dir",
                                  self.server.data_dir))
        self.assertEqual(owners["Grants"], [{"Principal": "bob", "Access": "owner"}])
        # Re-created by another principal, it is theirs alone.
        self.assertEqual(self.other.call("CreateCollection", {"CollectionId": "t-alice-2"})[0], 200)
        self.assertEqual(self.owner.call("DescribeCollection", {"CollectionId": "t-alice-2"})[0], 400)


class OwnerlessAndNoAuth(unittest.TestCase):
    def test_collections_from_before_tenancy_are_admins_only_until_chown(self):
        d = harness.temp_dir("argus-tenancy-")
        argus("collections", "create", "legacy", "--data-dir", d)
        server = Server(data_dir=d)
        try:
            user, admin = Key(server, "alice"), Key(server, "root", "--admin")
            self.assertEqual(user.call("DescribeCollection", {"CollectionId": "legacy"})[0], 400)
            self.assertEqual(admin.call("DescribeCollection", {"CollectionId": "legacy"})[0], 200)
            argus("collections", "chown", "legacy", "--to", "alice", "--data-dir", d)
            self.assertEqual(user.call("DescribeCollection", {"CollectionId": "legacy"})[0], 200)
        finally:
            server.stop()

    def test_no_auth_is_one_tenant_that_owns_what_it_creates(self):
        d = harness.temp_dir("argus-tenancy-")
        argus("collections", "create", "legacy", "--data-dir", d)
        server = Server("--no-auth", data_dir=d)
        try:
            def call(op, body):
                return server.post("RekognitionService." + op, json.dumps(body), sign=False)
            self.assertEqual(call("CreateCollection", {"CollectionId": "mine"})[0], 200)
            status, _, out = call("ListCollections", {})
            self.assertEqual(sorted(out["CollectionIds"]), ["legacy", "mine"])
            self.assertEqual(call("DescribeCollection", {"CollectionId": "legacy"})[0], 200)
            owners = json.loads(argus("collections", "owners", "mine", "--data-dir",
                                      server.data_dir))
            self.assertEqual(owners["Grants"], [{"Principal": "anonymous", "Access": "owner"}])
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
