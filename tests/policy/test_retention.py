"""Retention (tag argus:retention-days, the purge job and `argus retention
purge`, both recorded in the audit log) and erasure: after DeleteFaces,
DeleteUser and DeleteCollection the deleted bytes are in no file of the data
directory (database, write-ahead log, index snapshots)."""
import glob
import hashlib
import json
import os
import sqlite3
import time
import unittest

from policy_client import SAMPLE, Client, Server, argus, audit_records, image


def data_files(data_dir):
    files = [os.path.join(data_dir, "argus.db"), os.path.join(data_dir, "argus.db-wal")]
    return [f for f in files + glob.glob(os.path.join(data_dir, "index", "*")) if os.path.exists(f)]


def found_in(data_dir, pattern):
    hits = []
    for f in data_files(data_dir):
        with open(f, "rb") as fh:
            if pattern in fh.read():
                hits.append(os.path.basename(f))
    return hits


def query(data_dir, sql, *args):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "argus.db"), uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


class RetentionAndErasure(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Purge every second; collections of 4+ faces become HNSW graphs,
        # snapshotted every second.
        cls.server = Server("--policy", "open", "--retention-interval", "1", "--hnsw-threshold", "4",
                            "--snapshot-interval", "1")
        cls.admin = Client(cls.server, "records-office", "government", "administration")

    @classmethod
    def tearDownClass(cls):
        if cls.server.proc.poll() is None:
            cls.server.stop()

    def call(self, op, **body):
        status, _, out = self.admin.call(op, body)
        return status, out

    def ok(self, op, **body):
        status, out = self.call(op, **body)
        self.assertEqual(status, 200, (op, out))
        return out

    def cli(self, *args):
        r = self.server.aws(*args, access_key=self.admin.access_key, secret_key=self.admin.secret_key)
        return r.returncode, (json.loads(r.stdout) if r.returncode == 0 and r.stdout else r.stderr)

    def test_tags_set_the_retention(self):
        rc, out = self.cli("create-collection", "--collection-id", "tagged", "--tags",
                           "argus:retention-days=30,team=a")
        self.assertEqual(rc, 0, out)
        arn = out["CollectionArn"]
        rc, out = self.cli("list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(out["Tags"], {"argus:retention-days": "30", "team": "a"})
        rc, out = self.cli("tag-resource", "--resource-arn", arn, "--tags", "argus:retention-days=7")
        self.assertEqual(rc, 0, out)
        rc, out = self.cli("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
        self.assertEqual(rc, 0, out)
        rc, out = self.cli("list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(out["Tags"], {"argus:retention-days": "7"})
        for bad in ("abc", "0", "36501", "7.5"):
            rc, err = self.cli("tag-resource", "--resource-arn", arn, "--tags", "argus:retention-days=" + bad)
            self.assertNotEqual(rc, 0)
            self.assertIn("InvalidParameterException", err)
        rc, err = self.cli("create-collection", "--collection-id", "badtag", "--tags",
                           "argus:retention-days=forever")
        self.assertIn("InvalidParameterException", err)
        rc, err = self.cli("list-tags-for-resource", "--resource-arn", arn.replace("tagged", "nope"))
        self.assertIn("ResourceNotFoundException", err)
        status, out = self.call("TagResource", ResourceArn="arn:aws:rekognition:us-east-1:000000000000:project/x/1",
                                Tags={"a": "b"})
        self.assertEqual(out["__type"], "ResourceNotFoundException")

    def test_purge_job_deletes_expired_faces_and_audits_it(self):
        self.ok("CreateCollection", CollectionId="short", Tags={"argus:retention-days": "1"})
        faces = self.ok("IndexFaces", CollectionId="short", Image=image(SAMPLE[0]))["FaceRecords"]
        self.assertEqual(len(faces), 3)
        old = [f["Face"]["FaceId"] for f in faces[:2]]
        db = sqlite3.connect(os.path.join(self.server.data_dir, "argus.db"))
        db.execute("UPDATE faces SET created_ms = created_ms - 2 * 86400000 WHERE face_id IN (?, ?)", old)
        db.commit()
        db.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            left = [f["FaceId"] for f in self.ok("ListFaces", CollectionId="short")["Faces"]]
            if len(left) == 1:
                break
            time.sleep(0.3)
        self.assertEqual(left, [faces[2]["Face"]["FaceId"]])
        purges = [r for r in audit_records(self.server.data_dir)
                  if r["kind"] == "purge" and r["collection"] == "short"]
        self.assertEqual(len(purges), 1, purges)
        self.assertEqual((purges[0]["matches"], purges[0]["principal"]), (2, "retention-job"))
        self.assertIn("retention 1 days", purges[0]["detail"])
        # The purged faces are not found by a search either.
        out = self.ok("SearchFacesByImage", CollectionId="short", Image=image(SAMPLE[0]),
                      FaceMatchThreshold=0)
        self.assertTrue(all(m["Face"]["FaceId"] not in old for m in out["FaceMatches"]))

    def descriptor(self, face_id):
        (blob,), = query(self.server.data_dir, "SELECT descriptor FROM faces WHERE face_id = ?", face_id)
        self.assertEqual(len(blob), 128 * 4)
        return bytes(blob)

    def test_delete_faces_erases_the_descriptor_bytes(self):
        self.ok("CreateCollection", CollectionId="erase")
        faces = self.ok("IndexFaces", CollectionId="erase", Image=image(SAMPLE[1]))["FaceRecords"]
        face_id = faces[0]["Face"]["FaceId"]
        d = self.descriptor(face_id)
        self.assertTrue(found_in(self.server.data_dir, d))  # the search below can see it
        out = self.ok("DeleteFaces", CollectionId="erase", FaceIds=[face_id])
        self.assertEqual(out["DeletedFaces"], [face_id])
        self.assertEqual(found_in(self.server.data_dir, d), [])
        self.assertEqual(found_in(self.server.data_dir, face_id.encode()), [])

    def test_delete_user_erases_the_user(self):
        self.ok("CreateCollection", CollectionId="users")
        faces = self.ok("IndexFaces", CollectionId="users", Image=image(SAMPLE[2]))["FaceRecords"]
        user = b"erase-me-user-7f3a"
        self.ok("CreateUser", CollectionId="users", UserId=user.decode(), ClientRequestToken="tok-7f3a-erase")
        self.ok("AssociateFaces", CollectionId="users", UserId=user.decode(),
                FaceIds=[faces[0]["Face"]["FaceId"]])
        self.assertTrue(found_in(self.server.data_dir, user))
        self.ok("DeleteUser", CollectionId="users", UserId=user.decode())
        self.assertEqual(found_in(self.server.data_dir, user), [])
        self.assertEqual(found_in(self.server.data_dir, b"tok-7f3a-erase"), [])

    def test_delete_collection_erases_every_descriptor(self):
        self.ok("CreateCollection", CollectionId="gone")
        faces = self.ok("IndexFaces", CollectionId="gone", Image=image(SAMPLE[0]))["FaceRecords"]
        ds = [self.descriptor(f["Face"]["FaceId"]) for f in faces]
        self.assertTrue(all(found_in(self.server.data_dir, d) for d in ds))
        self.ok("DeleteCollection", CollectionId="gone")
        for d in ds:
            self.assertEqual(found_in(self.server.data_dir, d), [])

    def test_graph_index_snapshot_loses_deleted_descriptors(self):
        self.ok("CreateCollection", CollectionId="graph")
        ids = []
        for s in SAMPLE[:4]:
            ids += [f["Face"]["FaceId"] for f in
                    self.ok("IndexFaces", CollectionId="graph", Image=image(s))["FaceRecords"]]
        self.assertGreaterEqual(len(ids), 4)
        name = hashlib.sha256(b"graph").hexdigest() + ".idx"  # snapshots are named by id hash
        snapshot = os.path.join(self.server.data_dir, "index", name)
        d = self.descriptor(ids[1])
        deadline = time.time() + 20
        while time.time() < deadline and not (os.path.exists(snapshot) and
                                               d in open(snapshot, "rb").read()):
            time.sleep(0.3)
        self.assertIn(name, found_in(self.server.data_dir, d))
        self.ok("DeleteFaces", CollectionId="graph", FaceIds=[ids[1]])
        self.assertEqual(found_in(self.server.data_dir, d), [])
        # The next snapshot (written from the graph, whose vector was zeroed) lacks it too.
        deadline = time.time() + 10
        while time.time() < deadline and not os.path.exists(snapshot):
            time.sleep(0.3)
        self.assertTrue(os.path.exists(snapshot))
        self.assertEqual(found_in(self.server.data_dir, d), [])
        out = self.ok("SearchFaces", CollectionId="graph", FaceId=ids[0], FaceMatchThreshold=0, MaxFaces=100)
        self.assertNotIn(ids[1], [m["Face"]["FaceId"] for m in out["FaceMatches"]])

    def test_cli_purge_and_audit(self):
        # A server of its own, without the purge job, stopped before the CLI runs.
        server = Server("--policy", "open", "--retention-interval", "0")
        admin = Client(server, "records-office", "government", "administration")
        for cid, tags in (("short", {"argus:retention-days": "1"}), ("kept", {})):
            status, _, out = admin.call("CreateCollection", {"CollectionId": cid, "Tags": tags})
            self.assertEqual(status, 200, out)
            status, _, out = admin.call("IndexFaces", {"CollectionId": cid, "Image": image(SAMPLE[0])})
            self.assertEqual(status, 200, out)
        self.assertEqual(server.stop(), 0)
        # As of 2999 every face is past its collection's retention (1 day, and
        # the default 1095).
        out = argus("retention", "purge", "--as-of", "2999-01-01", "--data-dir", server.data_dir)
        purged = {p["CollectionId"]: p["FacesDeleted"] for p in json.loads(out.stdout)}
        self.assertEqual(purged, {"short": 3, "kept": 3})
        records = [r for r in audit_records(server.data_dir)
                   if r["kind"] == "purge" and r["principal"] == "cli"]
        self.assertEqual({r["collection"]: r["matches"] for r in records}, {"short": 3, "kept": 3})
        self.assertEqual(query(server.data_dir, "SELECT COUNT(*) FROM faces"), [(0,)])
        argus("audit", "verify", "--data-dir", server.data_dir)


if __name__ == "__main__":
    unittest.main()
