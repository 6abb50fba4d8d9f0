"""Collections, faces and users against the real server: Debian's aws CLI for
the operations it knows, signed raw requests for the Users operations it
predates, and restarts on the same data dir."""
import base64
import json
import os
import unittest

from harness import FACEAPI_DEMO, Server

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in (1, 2, 3)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def gray_jpeg_like_png():
    from test_server import gray_png
    return gray_png(96, 96)


def image(path_or_bytes):
    data = read(path_or_bytes) if isinstance(path_or_bytes, str) else path_or_bytes
    return {"Bytes": base64.b64encode(data).decode()}


class CollectionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "argus did not shut down cleanly (rc %s)" % rc

    def call(self, op, **body):
        status, _, out = self.server.post("RekognitionService." + op, json.dumps(body))
        return status, out

    def ok(self, op, **body):
        status, out = self.call(op, **body)
        self.assertEqual(status, 200, (op, out))
        return out

    def error(self, op, expected_type, **body):
        status, out = self.call(op, **body)
        self.assertEqual(status, 400, (op, out))
        self.assertEqual(out.get("__type"), expected_type, (op, out))
        self.assertTrue(out.get("message"), out)
        return out

    def cli(self, *args):
        r = self.server.aws(*args)
        return r.returncode, (json.loads(r.stdout) if r.returncode == 0 and r.stdout else r.stderr)

    def test_collection_lifecycle_with_the_aws_cli(self):
        rc, out = self.cli("create-collection", "--collection-id", "life", "--tags", "team=a,env=test")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["StatusCode"], 200)
        self.assertTrue(out["CollectionArn"].endswith(":collection/life"), out)
        self.assertTrue(out["FaceModelVersion"])
        rc, err = self.cli("create-collection", "--collection-id", "life")
        self.assertNotEqual(rc, 0)
        self.assertIn("ResourceAlreadyExistsException", err)
        rc, out = self.cli("describe-collection", "--collection-id", "life")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["FaceCount"], 0)
        self.assertIn("CreationTimestamp", out)
        self.assertIn("CollectionARN", out)
        rc, out = self.cli("list-collections")
        self.assertIn("life", out["CollectionIds"])
        rc, out = self.cli("delete-collection", "--collection-id", "life")
        self.assertEqual(rc, 0, out)
        rc, err = self.cli("describe-collection", "--collection-id", "life")
        self.assertIn("ResourceNotFoundException", err)
        self.error("DeleteCollection", "ResourceNotFoundException", CollectionId="life")

    def test_bad_collection_ids_and_pagination_tokens(self):
        self.error("CreateCollection", "InvalidParameterException", CollectionId="no spaces!")
        self.error("CreateCollection", "InvalidParameterException", CollectionId="x" * 256)
        self.error("DescribeCollection", "ResourceNotFoundException", CollectionId="never-made")
        for cid in ("page-a", "page-b", "page-c"):
            self.ok("CreateCollection", CollectionId=cid)
        seen, token = [], None
        while True:
            body = {"MaxResults": 1}
            if token:
                body["NextToken"] = token
            out = self.ok("ListCollections", **body)
            self.assertLessEqual(len(out["CollectionIds"]), 1)
            seen += out["CollectionIds"]
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue({"page-a", "page-b", "page-c"} <= set(seen))
        self.error("ListCollections", "InvalidPaginationTokenException", NextToken="garbage")
        self.error("ListFaces", "InvalidPaginationTokenException", CollectionId="page-a",
                   NextToken="garbage")

    def test_index_list_search_and_delete_faces(self):
        self.ok("CreateCollection", CollectionId="faces")
        rc, out = self.cli("index-faces", "--collection-id", "faces", "--image-bytes",
                           "fileb://" + SAMPLES[0], "--external-image-id", "sample1")
        self.assertEqual(rc, 0, out)
        records = out["FaceRecords"]
        self.assertEqual(len(records), 3, out)
        self.assertTrue(out["FaceModelVersion"])
        for r in records:
            self.assertEqual(r["Face"]["ExternalImageId"], "sample1")
            self.assertEqual(len(r["Face"]["FaceId"]), 36)
            self.assertIn("BoundingBox", r["FaceDetail"])
        ids = [r["Face"]["FaceId"] for r in records]
        # The same image with the same ExternalImageId: the same faces, no duplicates.
        again = self.ok("IndexFaces", CollectionId="faces", Image=image(SAMPLES[0]),
                        ExternalImageId="sample1")
        self.assertEqual(sorted(r["Face"]["FaceId"] for r in again["FaceRecords"]), sorted(ids))
        self.assertEqual(self.ok("DescribeCollection", CollectionId="faces")["FaceCount"], 3)
        # MaxFaces: the largest face only; the others are reported.
        one = self.ok("IndexFaces", CollectionId="faces", Image=image(SAMPLES[1]), MaxFaces=1,
                      DetectionAttributes=["ALL"])
        self.assertEqual(len(one["FaceRecords"]), 1)
        detail = one["FaceRecords"][0]["FaceDetail"]
        self.assertEqual(len(detail["Landmarks"]), 30)
        # ALL runs the attribute models, for indexed and unindexed faces alike.
        for d in [detail] + [u["FaceDetail"] for u in one["UnindexedFaces"]]:
            for key in ("AgeRange", "Gender", "Emotions", "Smile", "EyesOpen", "MouthOpen"):
                self.assertIn(key, d)
            self.assertLessEqual(d["AgeRange"]["Low"], d["AgeRange"]["High"])
            self.assertIn(d["Gender"]["Value"], ("Male", "Female"))
        # Without DetectionAttributes: the default detail only.
        plain = self.ok("IndexFaces", CollectionId="faces", Image=image(SAMPLES[1]), MaxFaces=1)
        self.assertNotIn("AgeRange", plain["FaceRecords"][0]["FaceDetail"])
        self.assertEqual(len(plain["FaceRecords"][0]["FaceDetail"]["Landmarks"]), 5)
        self.assertTrue(one["UnindexedFaces"])
        self.assertTrue(any("EXCEEDS_MAX_FACES" in u["Reasons"] for u in one["UnindexedFaces"]))
        self.assertTrue(all(u["Reasons"] for u in one["UnindexedFaces"]))

        # The faces indexed are the largest that pass: none left out for
        # MaxFaces is larger than one indexed.
        def area(d):
            return d["BoundingBox"]["Width"] * d["BoundingBox"]["Height"]
        self.ok("CreateCollection", CollectionId="faces-max")
        two = self.ok("IndexFaces", CollectionId="faces-max", Image=image(SAMPLES[1]), MaxFaces=2)
        self.assertEqual(len(two["FaceRecords"]), 2)
        smallest = min(area(r["FaceDetail"]) for r in two["FaceRecords"])
        exceeded = [u for u in two["UnindexedFaces"] if "EXCEEDS_MAX_FACES" in u["Reasons"]]
        self.assertTrue(exceeded)
        for u in exceeded:
            self.assertLessEqual(area(u["FaceDetail"]), smallest)
        self.ok("DeleteCollection", CollectionId="faces-max")
        self.error("IndexFaces", "InvalidParameterException", CollectionId="faces",
                   Image=image(SAMPLES[1]), MaxFaces=0)
        self.error("IndexFaces", "ResourceNotFoundException", CollectionId="nope",
                   Image=image(SAMPLES[1]))
        # ListFaces pages through all four faces.
        listed, token = [], None
        while True:
            body = {"CollectionId": "faces", "MaxResults": 3}
            if token:
                body["NextToken"] = token
            page = self.ok("ListFaces", **body)
            listed += page["Faces"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(len(listed), 4)
        self.assertEqual(len({f["FaceId"] for f in listed}), 4)
        rc, out = self.cli("list-faces", "--collection-id", "faces")
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(out["Faces"]), 4)
        # Searching with the photo finds its largest face, itself, at ~100.
        rc, out = self.cli("search-faces-by-image", "--collection-id", "faces", "--image-bytes",
                           "fileb://" + SAMPLES[0])
        self.assertEqual(rc, 0, out)
        self.assertIn("SearchedFaceBoundingBox", out)
        self.assertGreater(out["SearchedFaceConfidence"], 50)
        self.assertEqual(out["FaceMatches"][0]["Face"]["FaceId"], ids[0])
        self.assertGreater(out["FaceMatches"][0]["Similarity"], 99)
        for m in out["FaceMatches"]:
            self.assertGreaterEqual(m["Similarity"], 80)
        # SearchFaces by FaceId leaves the face itself out.
        rc, out = self.cli("search-faces", "--collection-id", "faces", "--face-id", ids[1],
                           "--face-match-threshold", "0")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["SearchedFaceId"], ids[1])
        self.assertNotIn(ids[1], [m["Face"]["FaceId"] for m in out["FaceMatches"]])
        self.assertEqual(len(out["FaceMatches"]), 3)
        sims = [m["Similarity"] for m in out["FaceMatches"]]
        self.assertEqual(sims, sorted(sims, reverse=True))
        self.error("SearchFaces", "ResourceNotFoundException", CollectionId="faces",
                   FaceId="00000000-0000-4000-8000-000000000000")
        # Bad input.
        self.error("SearchFacesByImage", "InvalidParameterException", CollectionId="faces",
                   Image=image(gray_jpeg_like_png()))
        self.error("SearchFacesByImage", "InvalidParameterException", CollectionId="faces",
                   Image=image(SAMPLES[0]), MaxFaces=5000)
        self.error("SearchFacesByImage", "InvalidParameterException", CollectionId="faces",
                   Image=image(SAMPLES[0]), FaceMatchThreshold=101)
        # DeleteFaces: reasons for what stays; the deleted face is no longer found.
        out = self.ok("DeleteFaces", CollectionId="faces",
                      FaceIds=[ids[0], "11111111-1111-4111-8111-111111111111"])
        self.assertEqual(out["DeletedFaces"], [ids[0]])
        self.assertEqual(out["UnsuccessfulFaceDeletions"][0]["Reasons"], ["FACE_NOT_FOUND"])
        out = self.ok("SearchFacesByImage", CollectionId="faces", Image=image(SAMPLES[0]),
                      FaceMatchThreshold=0)
        self.assertNotIn(ids[0], [m["Face"]["FaceId"] for m in out["FaceMatches"]])
        self.assertEqual(self.ok("DescribeCollection", CollectionId="faces")["FaceCount"], 3)

    def test_users(self):
        self.ok("CreateCollection", CollectionId="users")
        a = self.ok("IndexFaces", CollectionId="users", Image=image(SAMPLES[0]), ExternalImageId="a")
        b = self.ok("IndexFaces", CollectionId="users", Image=image(SAMPLES[0]), ExternalImageId="b")
        a_ids = [r["Face"]["FaceId"] for r in a["FaceRecords"]]
        b_ids = [r["Face"]["FaceId"] for r in b["FaceRecords"]]
        self.assertNotEqual(a_ids, b_ids)
        # CreateUser, idempotent with its ClientRequestToken.
        self.assertEqual(self.ok("CreateUser", CollectionId="users", UserId="alice",
                                 ClientRequestToken="tok-1"), {})
        self.ok("CreateUser", CollectionId="users", UserId="alice", ClientRequestToken="tok-1")
        self.error("CreateUser", "ConflictException", CollectionId="users", UserId="alice")
        self.error("CreateUser", "ResourceNotFoundException", CollectionId="nope", UserId="x")
        self.error("CreateUser", "InvalidParameterException", CollectionId="users", UserId="bad id")
        self.ok("CreateUser", CollectionId="users", UserId="bob")
        # The largest face of copy a, then the same face of copy b (similarity 100),
        # then a different person under a strict threshold.
        out = self.ok("AssociateFaces", CollectionId="users", UserId="alice", FaceIds=[a_ids[0]])
        self.assertEqual(out["AssociatedFaces"], [{"FaceId": a_ids[0]}])
        out = self.ok("AssociateFaces", CollectionId="users", UserId="alice",
                      FaceIds=[b_ids[0], a_ids[1], "22222222-2222-4222-8222-222222222222"],
                      UserMatchThreshold=99)
        self.assertEqual(out["AssociatedFaces"], [{"FaceId": b_ids[0]}])
        reasons = {u["FaceId"]: u["Reasons"] for u in out["UnsuccessfulFaceAssociations"]}
        self.assertEqual(reasons[a_ids[1]], ["LOW_MATCH_CONFIDENCE"])
        self.assertEqual(reasons["22222222-2222-4222-8222-222222222222"], ["FACE_NOT_FOUND"])
        self.assertIn("UserStatus", out)
        out = self.ok("AssociateFaces", CollectionId="users", UserId="bob", FaceIds=[a_ids[0]])
        self.assertEqual(out["UnsuccessfulFaceAssociations"][0]["Reasons"],
                         ["ASSOCIATED_TO_A_DIFFERENT_USER"])
        self.assertEqual(out["UnsuccessfulFaceAssociations"][0]["UserId"], "alice")
        # ListFaces by user; a user's face is not deleted.
        faces = self.ok("ListFaces", CollectionId="users", UserId="alice")["Faces"]
        self.assertEqual(sorted(f["FaceId"] for f in faces), sorted([a_ids[0], b_ids[0]]))
        self.assertTrue(all(f["UserId"] == "alice" for f in faces))
        out = self.ok("DeleteFaces", CollectionId="users", FaceIds=[a_ids[0]])
        self.assertEqual(out["DeletedFaces"], [])
        self.assertEqual(out["UnsuccessfulFaceDeletions"][0]["Reasons"],
                         ["ASSOCIATED_TO_AN_EXISTING_USER"])
        # ListUsers pages.
        page = self.ok("ListUsers", CollectionId="users", MaxResults=1)
        self.assertEqual(len(page["Users"]), 1)
        page2 = self.ok("ListUsers", CollectionId="users", MaxResults=1, NextToken=page["NextToken"])
        self.assertEqual({page["Users"][0]["UserId"], page2["Users"][0]["UserId"]}, {"alice", "bob"})
        self.error("ListUsers", "InvalidPaginationTokenException", CollectionId="users",
                   NextToken="nope")
        self.assertEqual(self.ok("DescribeCollection", CollectionId="users")["UserCount"], 2)
        # SearchUsers by face and by user; SearchUsersByImage with the photo.
        out = self.ok("SearchUsers", CollectionId="users", FaceId=b_ids[0])
        self.assertEqual(out["UserMatches"][0]["User"]["UserId"], "alice")
        self.assertGreater(out["UserMatches"][0]["Similarity"], 99)
        self.assertEqual(out["SearchedFace"], {"FaceId": b_ids[0]})
        out = self.ok("SearchUsers", CollectionId="users", UserId="alice")
        self.assertNotIn("alice", [m["User"]["UserId"] for m in out["UserMatches"]])
        self.error("SearchUsers", "InvalidParameterException", CollectionId="users")
        out = self.ok("SearchUsersByImage", CollectionId="users", Image=image(SAMPLES[0]))
        self.assertEqual(out["UserMatches"][0]["User"]["UserId"], "alice")
        self.assertIn("FaceDetail", out["SearchedFace"])
        self.assertEqual(len(out["UnsearchedFaces"]), 2)
        self.assertTrue(all("FACE_NOT_LARGEST" in u["Reasons"] for u in out["UnsearchedFaces"]))
        self.error("SearchUsersByImage", "InvalidParameterException", CollectionId="users",
                   Image=image(gray_jpeg_like_png()))
        # DisassociateFaces, then DeleteUser.
        out = self.ok("DisassociateFaces", CollectionId="users", UserId="alice",
                      FaceIds=[b_ids[0], b_ids[1]])
        self.assertEqual(out["DisassociatedFaces"], [{"FaceId": b_ids[0]}])
        self.assertEqual(out["UnsuccessfulFaceDisassociations"][0]["FaceId"], b_ids[1])
        self.ok("DeleteUser", CollectionId="users", UserId="alice")
        self.error("DeleteUser", "ResourceNotFoundException", CollectionId="users", UserId="alice")
        self.assertEqual(self.ok("ListFaces", CollectionId="users", UserId="alice")["Faces"], [])
        out = self.ok("DeleteFaces", CollectionId="users", FaceIds=[a_ids[0]])
        self.assertEqual(out["DeletedFaces"], [a_ids[0]])


class RestartTest(unittest.TestCase):
    def test_collections_faces_and_users_survive_a_restart(self):
        server = Server()
        try:
            post = lambda op, **b: server.post("RekognitionService." + op, json.dumps(b))
            self.assertEqual(post("CreateCollection", CollectionId="keep", Tags={"k": "v"})[0], 200)
            s, _, out = post("IndexFaces", CollectionId="keep", Image=image(SAMPLES[0]))
            self.assertEqual(s, 200, out)
            ids = sorted(r["Face"]["FaceId"] for r in out["FaceRecords"])
            self.assertEqual(post("CreateUser", CollectionId="keep", UserId="u")[0], 200)
            self.assertEqual(post("AssociateFaces", CollectionId="keep", UserId="u",
                                  FaceIds=[ids[0]])[0], 200)
        finally:
            self.assertEqual(server.stop(), 0)
        server = Server(data_dir=server.data_dir)
        try:
            post = lambda op, **b: server.post("RekognitionService." + op, json.dumps(b))
            s, _, out = post("DescribeCollection", CollectionId="keep")
            self.assertEqual((out["FaceCount"], out["UserCount"]), (3, 1))
            s, _, out = post("ListFaces", CollectionId="keep")
            self.assertEqual(sorted(f["FaceId"] for f in out["Faces"]), ids)
            s, _, out = post("SearchFacesByImage", CollectionId="keep", Image=image(SAMPLES[0]))
            self.assertEqual(s, 200, out)
            self.assertIn(out["FaceMatches"][0]["Face"]["FaceId"], ids)
            s, _, out = post("ListUsers", CollectionId="keep")
            self.assertEqual([u["UserId"] for u in out["Users"]], ["u"])
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
