"""Several argus nodes on one PostgreSQL (--store postgresql://...): a private
cluster (tests/store/pg_cluster.py) and real `argus serve` processes, each
with its own data dir. A face indexed on one node is found on the other; a
delete on one is gone on the other; a node killed with SIGKILL in the middle
of a stream of IndexFaces loses no acknowledged face and catches up when it
is back; two nodes append to one audit chain that `argus audit verify
--store` accepts; a stored-video job whose node is killed is taken over by
the other node once its lease runs out, and not before; an access key
created with `argus keys create --store` signs requests on every node, its
principal's rate limit holds across the nodes, and a revocation reaches
them all. Fails (never skips) when PostgreSQL cannot start."""
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import shutil
import tempfile
import unittest

import cv2

from harness import ARGUS_BIN, FACEAPI_DEMO, Server
from test_video import write_clip

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "store"))
from pg_cluster import PgCluster  # noqa: E402

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in (1, 2, 3)]
# Within this bound a change made on one node shows on the others (the
# followers are woken by NOTIFY; bench/store_bench.py measures the delay).
PROPAGATION_S = 5


def image(path):
    with open(path, "rb") as f:
        return {"Bytes": base64.b64encode(f.read()).decode()}


class Node:
    def __init__(self, url, *extra, data_dir=None):
        self.server = Server("--store", url, "--no-auth", "--anonymous-org-type", "research",
                             "--anonymous-purpose", "testing", *extra, data_dir=data_dir)

    def call(self, op, **body):
        return self.server.post("RekognitionService." + op, json.dumps(body), sign=False)

    def ok(self, op, **body):
        status, _, out = self.call(op, **body)
        if status != 200:
            raise AssertionError("%s on node %s: %s %s" % (op, self.server.port, status, out))
        return out

    def face_ids(self, collection):
        ids, token = set(), None
        while True:
            body = {"CollectionId": collection, "MaxResults": 4096}
            if token:
                body["NextToken"] = token
            out = self.ok("ListFaces", **body)
            ids |= {f["FaceId"] for f in out["Faces"]}
            token = out.get("NextToken")
            if not token:
                return ids

    def matches(self, collection, sample):
        out = self.ok("SearchFacesByImage", CollectionId=collection, Image=image(sample),
                      MaxFaces=4096, FaceMatchThreshold=0)
        return {m["Face"]["FaceId"] for m in out["FaceMatches"]}


def eventually(check, timeout=PROPAGATION_S):
    deadline = time.time() + timeout
    while True:
        if check():
            return True
        if time.time() > deadline:
            return False
        time.sleep(0.05)


class ScaleOutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().__enter__()  # raises: the test fails
        cls.url = cls.pg.url
        cls.a = Node(cls.url)
        cls.b = Node(cls.url)

    @classmethod
    def tearDownClass(cls):
        for n in (cls.a, cls.b):
            if n.server.proc.poll() is None:
                n.server.stop()
        cls.pg.close()

    def test_index_on_one_node_search_on_the_other_delete_propagates(self):
        self.a.ok("CreateCollection", CollectionId="shared")
        out = self.a.ok("IndexFaces", CollectionId="shared", Image=image(SAMPLES[0]),
                        ExternalImageId="one")
        ids = {r["Face"]["FaceId"] for r in out["FaceRecords"]}
        self.assertTrue(ids)
        # The collection and its faces on B, searchable there.
        self.assertTrue(eventually(lambda: ids <= self.b.matches("shared", SAMPLES[0])),
                        self.b.server.logs()[-2000:])
        self.assertEqual(self.b.face_ids("shared"), ids)
        # Deleted on A: gone from B's search.
        victim = sorted(ids)[0]
        self.a.ok("DeleteFaces", CollectionId="shared", FaceIds=[victim])
        self.assertTrue(eventually(lambda: victim not in self.b.matches("shared", SAMPLES[0])))
        # The collection deleted on B: gone on A.
        self.b.ok("DeleteCollection", CollectionId="shared")
        status, _, err = self.a.call("DescribeCollection", CollectionId="shared")
        self.assertEqual(status, 400)
        self.assertEqual(err["__type"], "ResourceNotFoundException")
        self.assertTrue(eventually(
            lambda: self.a.call("SearchFacesByImage", CollectionId="shared",
                                Image=image(SAMPLES[0]))[0] == 400))

    def test_a_killed_node_loses_no_acknowledged_face_and_catches_up(self):
        self.a.ok("CreateCollection", CollectionId="stream")
        acked = {}  # FaceId -> sample index
        per_request = {}  # ExternalImageId -> number of faces it indexed
        stop = threading.Event()

        def stream():
            n = 0
            while not stop.is_set():
                k = n % len(SAMPLES)
                try:
                    status, _, out = self.a.call("IndexFaces", CollectionId="stream",
                                                 Image=image(SAMPLES[k]),
                                                 ExternalImageId="r%d" % n)
                except OSError:
                    return  # the node died under the request: not acknowledged
                if status == 200:
                    per_request["r%d" % n] = len(out["FaceRecords"])
                    for r in out["FaceRecords"]:
                        acked[r["Face"]["FaceId"]] = k
                n += 1

        t = threading.Thread(target=stream)
        t.start()
        deadline = time.time() + 60
        while len(per_request) < 4 and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(len(per_request), 4, self.a.server.logs()[-2000:])
        time.sleep(0.3)  # somewhere inside the next request
        self.a.server.proc.send_signal(signal.SIGKILL)
        self.a.server.proc.wait()
        stop.set()
        t.join()

        # Every acknowledged face is on B and found by B's search.
        self.assertTrue(eventually(lambda: set(acked) <= self.b.face_ids("stream")))
        for k, sample in enumerate(SAMPLES):
            want = {f for f, s in acked.items() if s == k}
            if want:
                self.assertTrue(eventually(lambda: want <= self.b.matches("stream", sample)),
                                "sample %d" % k)
        # Nothing half-written: each request's faces are all there or none.
        faces = self.b.ok("ListFaces", CollectionId="stream", MaxResults=4096)["Faces"]
        by_request = {}
        for f in faces:
            by_request.setdefault(f["ExternalImageId"], 0)
            by_request[f["ExternalImageId"]] += 1
        per_sample = {int(r[1:]) % len(SAMPLES): n for r, n in per_request.items()}
        for ext, n in by_request.items():
            self.assertEqual(n, per_sample[int(ext[1:]) % len(SAMPLES)], ext)

        # B indexes while A is down; A restarted on its data dir catches up.
        out = self.b.ok("IndexFaces", CollectionId="stream", Image=image(SAMPLES[1]),
                        ExternalImageId="while-down")
        missed = {r["Face"]["FaceId"] for r in out["FaceRecords"]}
        self.a = type(self).a = Node(self.url, data_dir=self.a.server.data_dir)
        self.assertTrue(eventually(lambda: missed <= self.a.matches("stream", SAMPLES[1])))
        self.assertEqual(self.a.face_ids("stream"), self.b.face_ids("stream"))
        # And follows again.
        out = self.b.ok("IndexFaces", CollectionId="stream", Image=image(SAMPLES[2]),
                        ExternalImageId="after")
        later = {r["Face"]["FaceId"] for r in out["FaceRecords"]}
        self.assertTrue(eventually(lambda: later <= self.a.matches("stream", SAMPLES[2])))

    def test_a_database_outage_is_service_unavailable_and_the_nodes_recover(self):
        self.a.ok("CreateCollection", CollectionId="outage")
        # Node b answers reads of collections it has seen from its own view:
        # let the new collection reach it before the database goes away.
        self.assertTrue(eventually(
            lambda: self.b.call("DescribeCollection", CollectionId="outage")[0] == 200))
        self.pg.stop()
        try:
            for node, op, body in ((self.a, "CreateCollection", {"CollectionId": "refused"}),
                                   (self.b, "IndexFaces", {"CollectionId": "outage",
                                                           "Image": image(SAMPLES[0])}),
                                   (self.b, "ListFaces", {"CollectionId": "outage"}),
                                   # one b has not seen: it may exist, b cannot tell
                                   (self.b, "ListFaces", {"CollectionId": "never-seen"})):
                status, _, out = node.call(op, **body)
                self.assertEqual(status, 503, (op, out))
                self.assertEqual(out["__type"], "ServiceUnavailableException", out)
                self.assertIn("database is unreachable", out["message"])
        finally:
            self.pg.restart()
        # Back without a restart of the nodes; the refused writes are absent.
        out = self.b.ok("IndexFaces", CollectionId="outage", Image=image(SAMPLES[0]))
        ids = {r["Face"]["FaceId"] for r in out["FaceRecords"]}
        self.assertEqual(self.a.face_ids("outage"), ids)
        self.assertTrue(eventually(lambda: ids <= self.a.matches("outage", SAMPLES[0])))
        status, _, _ = self.a.call("DescribeCollection", CollectionId="refused")
        self.assertEqual(status, 400)

    def test_one_audit_chain_from_two_nodes_verifies(self):
        self.a.ok("CreateCollection", CollectionId="audited")
        errors = []

        def hammer(node, n):
            for i in range(n):
                status, _, out = node.call("IndexFaces", CollectionId="audited",
                                           Image=image(SAMPLES[i % 3]),
                                           ExternalImageId="%d-%d" % (node.server.port, i))
                if status != 200:
                    errors.append(out)

        threads = [threading.Thread(target=hammer, args=(n, 4)) for n in (self.a, self.b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for node in (self.a, self.b):
            r = subprocess.run([ARGUS_BIN, "audit", "verify", "--store", self.url,
                                "--data-dir", node.server.data_dir],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class JobTakeoverTest(unittest.TestCase):
    """Its own database, so the nodes of ScaleOutTest claim none of its jobs."""
    LEASE_S = 2

    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().__enter__()
        cls.url = cls.pg.create_database("takeover")
        cls.s3 = tempfile.mkdtemp(prefix="argus-takeover-s3-")
        os.makedirs(os.path.join(cls.s3, "clips"))
        # Long enough that a run outlasts a few leases on any machine.
        img = cv2.imread(SAMPLES[1])
        write_clip(os.path.join(cls.s3, "clips", "long.mp4"), [img] * 600, fps=10,
                   size=(640, 480))
        cls.nodes = []

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            if n.server.proc.poll() is None:
                n.server.stop()
        cls.pg.close()
        shutil.rmtree(cls.s3, ignore_errors=True)

    def node(self):
        n = Node(self.url, "--s3-root", self.s3, "--job-lease-seconds", str(self.LEASE_S))
        self.nodes.append(n)
        return n

    def job_row(self, job_id):
        rows = self.pg.query(self.url, "SELECT state, attempts, lease_node FROM jobs WHERE id = "
                             "'%s'" % job_id)
        self.assertEqual(len(rows), 1, rows)
        return rows[0][0], int(rows[0][1]), rows[0][2]

    def test_a_killed_nodes_job_is_taken_over_when_its_lease_runs_out(self):
        a = self.node()
        job = a.ok("StartFaceDetection",
                   Video={"S3Object": {"Bucket": "clips", "Name": "long.mp4"}})["JobId"]
        self.assertTrue(eventually(lambda: self.job_row(job)[1] == 1, timeout=30))
        _, _, node_a = self.job_row(job)
        b = self.node()
        # While A runs it and renews its lease, B leaves it alone.
        time.sleep(2 * self.LEASE_S)
        state, attempts, holder = self.job_row(job)
        if state == "IN_PROGRESS":
            self.assertEqual((attempts, holder), (1, node_a), "taken over from a live node")
        else:
            self.fail("the job ended before the node could be killed: make the clip longer")
        a.server.proc.send_signal(signal.SIGKILL)
        a.server.proc.wait()
        # B takes it over once A's lease runs out, runs it again, and answers
        # the whole result.
        deadline = time.time() + 300
        while True:
            out = b.ok("GetFaceDetection", JobId=job, MaxResults=1000)
            if out["JobStatus"] != "IN_PROGRESS" or time.time() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(out["JobStatus"], "SUCCEEDED", out.get("StatusMessage"))
        self.assertTrue(out["Faces"], "the run on B found the faces")
        self.assertGreater(out["VideoMetadata"]["DurationMillis"], 55000)
        state, attempts, holder = self.job_row(job)
        self.assertEqual((state, attempts), ("SUCCEEDED", 2))
        self.assertNotEqual(holder, node_a)


class SharedKeysTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().__enter__()
        cls.url = cls.pg.create_database("keys")
        cls.dirs = [tempfile.mkdtemp(prefix="argus-keys-node-") for _ in range(2)]
        cls.nodes = []

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            if n.proc.poll() is None:
                n.stop()
        cls.pg.close()
        for d in cls.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def keys(self, *args, data_dir=None):
        r = subprocess.run([ARGUS_BIN, "keys", *args, "--store", self.url, "--data-dir",
                            data_dir or self.dirs[0]], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_a_key_works_on_every_node_its_rate_limit_is_shared_and_revocation_reaches_all(self):
        key = json.loads(self.keys("create", "--name", "lab", "--org-type", "research",
                                   "--purpose", "testing", "--rate-limit", "0.5"))
        # Every node holds the same argus.key (docs/SCALING.md).
        shutil.copy(os.path.join(self.dirs[0], "argus.key"), self.dirs[1])
        a, b = [Server("--store", self.url, data_dir=d, issue_key=False) for d in self.dirs]
        self.nodes += [a, b]
        for n in (a, b):
            self.assertFalse(os.path.exists(os.path.join(n.data_dir, "admin-credentials")),
                             "a node that finds active keys creates no admin key")
        signed = dict(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])

        def call(node):
            return node.post("RekognitionService.ListCollections", "{}", **signed)

        status, _, out = call(b)
        self.assertEqual(status, 200, out)
        # 0.5 requests/s, a burst of 1: the token B took is gone on A too.
        status, _, out = call(a)
        self.assertEqual(out.get("__type"), "ProvisionedThroughputExceededException", out)
        time.sleep(2.2)
        status, _, out = call(a)
        self.assertEqual(status, 200, out)
        # Revoked through node B's data dir: both nodes refuse it.
        self.keys("revoke", key["AccessKeyId"], data_dir=self.dirs[1])
        for n in (a, b):
            time.sleep(2.2)  # a token is there: the refusal is the revocation's
            status, _, out = call(n)
            self.assertEqual(status, 403, out)
            self.assertEqual(out["__type"], "UnrecognizedClientException", out)
        listed = json.loads(self.keys("list"))
        self.assertEqual([(k["AccessKeyId"], bool(k.get("RevokedAt"))) for k in listed],
                         [(key["AccessKeyId"], True)])


if __name__ == "__main__":
    unittest.main()
