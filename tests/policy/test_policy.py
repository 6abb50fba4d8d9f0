"""The policy matrix through the real server with signed requests: every
preset rule both ways, the audit log complete for the run, an audit write
that fails failing the search, and tampering found by `argus audit verify`."""
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

from policy_client import (SAMPLE, Client, Server, argus, assert_all_audited, audit_records, image,
                           share)

STREAM_PROCESSOR = {
    "Input": {"KinesisVideoStream": {"Arn": "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1"}},
    "Output": {"KinesisDataStream": {"Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/out"}},
    "Name": "entrance",
    "Settings": {"FaceSearch": {"CollectionId": "people", "FaceMatchThreshold": 80}},
    "RoleArn": "arn:aws:iam::123456789012:role/argus",
}


class Matrix(unittest.TestCase):
    """Shared helpers."""

    def denied(self, client, op, body, rule, **kw):
        status, _, out = client.call(op, body, **kw)
        self.assertEqual(status, 400, out)
        self.assertEqual(out.get("__type"), "AccessDeniedException", out)
        self.assertIn("rule '%s'" % rule, out["message"])
        self.assertIn("(preset:", out["message"])
        return out

    def ok(self, client, op, body, **kw):
        status, headers, out = client.call(op, body, **kw)
        self.assertEqual(status, 200, (op, out))
        return out, headers

    def record(self, request_id):
        rs = [r for r in audit_records(self.server.data_dir) if r["request_id"] == request_id]
        self.assertEqual(len(rs), 1, request_id)
        return rs[0]

    def tearDown(self):
        # Every audited call made so far is in the log exactly once and the
        # log verifies: checked after each test, whatever ran before it.
        if getattr(self, "clients", None) and self.server.proc.poll() is None:
            assert_all_audited(self, self.clients, self.server.data_dir, require_some=False)


class Moratorium2020(Matrix):
    """The default policy set (moratorium-2020)."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.cop = Client(cls.server, "city-police", "law_enforcement", "investigation")
        cls.child = Client(cls.server, "child-rescue", "child_safety", "investigation",
                           "--authorisation", "board-2026-3")
        cls.lab = Client(cls.server, "lab", "research", "research")
        cls.clients = [cls.cop, cls.child, cls.lab]
        status, _, out = cls.lab.call("CreateCollection", {"CollectionId": "people"})
        assert status == 200, out
        share(cls.server, "people", "city-police", "child-rescue", "county")
        # sample1 holds three people; the largest face's own match is ~100,
        # another person's is between 80 and 99.
        status, _, out = cls.lab.call("IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[0])})
        assert status == 200 and len(out["FaceRecords"]) == 3, out
        cls.face_id = out["FaceRecords"][0]["Face"]["FaceId"]

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def search(self, client, threshold=80, **kw):
        return client.call("SearchFacesByImage", {"CollectionId": "people", "Image": image(SAMPLE[0]),
                                                  "FaceMatchThreshold": threshold}, **kw)

    def test_law_enforcement_may_not_identify_or_enrol(self):
        rule = "law-enforcement-no-identification"
        self.denied(self.cop, "SearchFacesByImage",
                    {"CollectionId": "people", "Image": image(SAMPLE[0])}, rule)
        self.denied(self.cop, "SearchFaces", {"CollectionId": "people", "FaceId": self.face_id}, rule)
        self.denied(self.cop, "SearchUsers", {"CollectionId": "people", "FaceId": self.face_id}, rule)
        self.denied(self.cop, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[1])}, rule)
        # The denial is recorded with its rule.
        r = self.record(self.cop.calls[0][1])
        self.assertEqual((r["decision"], r["rule"], r["org_type"]),
                         ("deny", "moratorium-2020/" + rule, "law_enforcement"))
        # The other way: detection, labels and administration stay open.
        out, _ = self.ok(self.cop, "DetectLabels", {"Image": image(SAMPLE[0]), "MaxLabels": 3})
        self.assertIn("Person", [l["Name"] for l in out["Labels"]])
        self.ok(self.cop, "DetectFaces", {"Image": image(SAMPLE[0])})
        self.ok(self.cop, "DescribeCollection", {"CollectionId": "people"})

    def test_others_may_search_with_the_threshold_they_ask(self):
        # Threshold 0: every face of the collection matches, the other women well under 99.
        status, headers, out = self.search(self.lab, threshold=0)
        self.assertEqual(status, 200, out)
        sims = [m["Similarity"] for m in out["FaceMatches"]]
        self.assertGreaterEqual(len(sims), 3, sims)
        self.assertTrue(any(s < 99 for s in sims), sims)
        self.assertNotIn("X-Argus-Policy-Constraints", headers)
        r = self.record(headers["x-amzn-RequestId"])
        self.assertEqual((r["threshold_asked"], r["threshold_applied"], r["matches"]), (0, 0, len(sims)))
        self.assertAlmostEqual(r["top_similarity"], max(sims), places=3)

    def test_child_safety_for_missing_persons_gets_threshold_99(self):
        # boto3 with the before-sign hook of the README.
        _, _, lab = self.search(self.lab, threshold=0)  # the same search without a floor
        lab_sims = [m["Similarity"] for m in lab["FaceMatches"]]
        self.assertTrue(any(s < 99 for s in lab_sims), lab_sims)
        client = self.child.boto3(purpose="missing_persons", case_id="case-2026/0042")
        with open(SAMPLE[0], "rb") as f:
            out = client.search_faces_by_image(CollectionId="people", FaceMatchThreshold=0,
                                               Image={"Bytes": f.read()})
        sims = [m["Similarity"] for m in out["FaceMatches"]]
        # The matches under 99 of the unconstrained search are gone.
        self.assertEqual(sims, [s for s in lab_sims if s >= 99])
        self.assertGreaterEqual(len(sims), 1)
        headers = out["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers.get("x-argus-policy-constraints"),
                         "moratorium-2020/public-safety-threshold-99")
        rid = out["ResponseMetadata"]["RequestId"]
        self.child.calls.append(("SearchFacesByImage", rid, True))
        r = self.record(rid)
        self.assertEqual((r["purpose"], r["case_id"], r["decision"]),
                         ("missing_persons", "case-2026/0042", "allow"))
        self.assertEqual((r["threshold_asked"], r["threshold_applied"]), (0, 99))
        self.assertEqual(r["rule"], "moratorium-2020/public-safety-threshold-99")
        self.assertEqual(r["authorisation"], "board-2026-3")
        # Enrolment for trafficking victims too.
        self.ok(self.child, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[2])},
                purpose="trafficking_victims")

    def test_child_safety_for_other_purposes_is_denied(self):
        rule = "child-safety-named-purposes-only"
        status, _, out = self.search(self.child)  # default purpose: investigation
        self.assertEqual(out.get("__type"), "AccessDeniedException", out)
        self.assertIn(rule, out["message"])
        self.denied(self.child, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[2])},
                    rule)

    def test_public_safety_floor_applies_to_everyone(self):
        gov = Client(self.server, "county", "government", "investigation")
        self.clients.append(gov)
        status, headers, out = self.search(gov, threshold=50)
        self.assertEqual(status, 200, out)
        self.assertTrue(all(m["Similarity"] >= 99 for m in out["FaceMatches"]), out)
        self.assertEqual(self.record(headers["x-amzn-RequestId"])["threshold_applied"], 99)

    def test_purpose_headers(self):
        status, _, out = self.search(self.lab, purpose="missing_persons")
        self.assertEqual(out.get("__type"), "AccessDeniedException")
        self.assertIn("does not extend to 'missing_persons'", out["message"])
        status, _, out = self.search(self.lab, purpose="missing_person")
        self.assertEqual(out.get("__type"), "InvalidParameterException")
        self.assertIn("unknown purpose", out["message"])
        status, _, out = self.search(self.lab, case_id="bad case id with spaces")
        self.assertEqual(out.get("__type"), "InvalidParameterException")
        self.assertIn("X-Argus-Case-Id", out["message"])

    def test_the_log_starts_with_the_policies_in_force(self):
        self.search(self.lab)
        records, audited = assert_all_audited(self, self.clients, self.server.data_dir)
        self.assertGreaterEqual(audited, 1)
        self.assertEqual(records[0]["kind"], "policy")
        self.assertIn("moratorium-2020", records[0]["detail"])


class EuAiActArticle5(Matrix):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--policy", "eu-ai-act-art5", "--policy-param", "enrollment_daily_cap=2")
        cls.hr = Client(cls.server, "hr-dept", "commercial", "workplace")
        cls.photos = Client(cls.server, "photo-app", "commercial", "photo_organization")
        cls.cop = Client(cls.server, "city-police", "law_enforcement", "investigation")
        cls.warrant = Client(cls.server, "task-force", "law_enforcement", "investigation",
                             "--authorisation", "court-order-2026-118")
        cls.clients = [cls.hr, cls.photos, cls.cop, cls.warrant]
        assert cls.photos.call("CreateCollection", {"CollectionId": "people"})[0] == 200
        share(cls.server, "people", "hr-dept", "city-police", "task-force")

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def test_no_emotions_at_work(self):
        self.denied(self.hr, "DetectFaces", {"Image": image(SAMPLE[0]), "Attributes": ["ALL"]},
                    "no-emotion-recognition-work-education")
        self.denied(self.hr, "DetectFaces", {"Image": image(SAMPLE[0]), "Attributes": ["EMOTIONS"]},
                    "no-emotion-recognition-work-education")
        out, _ = self.ok(self.hr, "DetectFaces", {"Image": image(SAMPLE[0]), "Attributes": ["DEFAULT"]})
        self.assertEqual(len(out["FaceDetails"]), 3)
        out, _ = self.ok(self.photos, "DetectFaces", {"Image": image(SAMPLE[0]), "Attributes": ["ALL"]})
        self.assertIn("Emotions", out["FaceDetails"][0])

    def test_live_face_search_is_decided_and_audited(self):
        # Real-time remote identification: denied to police investigating,
        # let through for a narrow purpose with an authorisation reference
        # (this server runs no stream sources, so the handler then answers
        # that stream processors are not enabled). Both are audited.
        out = self.denied(self.cop, "CreateStreamProcessor", STREAM_PROCESSOR,
                          "no-realtime-identification-law-enforcement")
        status, headers, out = self.warrant.call("CreateStreamProcessor", STREAM_PROCESSOR,
                                                 purpose="missing_persons", case_id="op-17")
        self.assertEqual((status, out.get("__type")), (503, "ServiceUnavailableException"), out)
        self.assertIn("--stream-source", out["message"])
        r = self.record(headers["x-amzn-RequestId"])
        self.assertEqual((r["decision"], r["op_class"], r["collection"]),
                         ("allow", "realtime_identification", "people"))
        self.assertTrue(r["human_review"])
        # The eu-ai-act-art5 preset alone leaves 1:N search by police to other policies.
        self.ok(self.cop, "SearchFacesByImage", {"CollectionId": "people", "Image": image(SAMPLE[0])})
        # Policies classify the operation (argus policy test).
        out = argus("policy", "test", "--policy", "eu-ai-act-art5", "--org-type", "law_enforcement",
                    "--purpose", "investigation", "--op", "CreateStreamProcessor", "--json",
                    check=False)
        self.assertEqual(json.loads(out.stdout)["operation_class"], "realtime_identification")

    def test_enrollment_is_capped_per_principal_per_day(self):
        for sample in SAMPLE[1:3]:
            self.ok(self.photos, "IndexFaces", {"CollectionId": "people", "Image": image(sample)})
        out = self.denied(self.photos, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[3])},
                          "no-untargeted-enrollment")
        self.assertIn("has made 2", out["message"])
        # Another principal has its own count.
        self.ok(self.warrant, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[3])})

    def test_every_audited_call_is_recorded_once_and_the_log_verifies(self):
        self.ok(self.warrant, "SearchFacesByImage", {"CollectionId": "people", "Image": image(SAMPLE[0])},
                case_id="c-7")
        assert_all_audited(self, self.clients, self.server.data_dir)


class OpenPolicyAuditFailureAndTampering(Matrix):
    """Each test has a server of its own."""

    def setUp(self):
        self.server = Server("--policy", "open")
        self.cop = Client(self.server, "city-police", "law_enforcement", "investigation")
        self.assertEqual(self.cop.call("CreateCollection", {"CollectionId": "people"})[0], 200)

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.stop()

    def searches(self):
        """An enrolment, a search at threshold 90 and three searches by FaceId."""
        self.ok(self.cop, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[0])})
        self.ok(self.cop, "SearchFacesByImage", {"CollectionId": "people", "Image": image(SAMPLE[0]),
                                                 "FaceMatchThreshold": 90})
        for _ in range(3):
            self.ok(self.cop, "SearchFaces", {"CollectionId": "people",
                                              "FaceId": self.first_face_id()})

    def test_open_allows_and_still_audits(self):
        out, headers = self.ok(self.cop, "IndexFaces", {"CollectionId": "people", "Image": image(SAMPLE[0])})
        out, headers = self.ok(self.cop, "SearchFacesByImage",
                               {"CollectionId": "people", "Image": image(SAMPLE[0]),
                                "FaceMatchThreshold": 90}, case_id="c-1")
        r = self.record(headers["x-amzn-RequestId"])
        self.assertEqual((r["decision"], r["rule"], r["matches"], r["case_id"]), ("allow", "", 1, "c-1"))

    def test_a_failed_audit_write_fails_the_search(self):
        db = sqlite3.connect(os.path.join(self.server.data_dir, "argus.db"))
        db.execute("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END")
        db.commit()
        try:
            status, _, out = self.cop.call("SearchFacesByImage",
                                           {"CollectionId": "people", "Image": image(SAMPLE[0])})
            self.assertEqual(status, 500, out)
            self.assertEqual(out["__type"], "InternalServerError")
            self.assertIn("audit log", out["message"])
            self.assertNotIn("FaceMatches", out)
            # Unaudited operations are unaffected.
            self.ok(self.cop, "DescribeCollection", {"CollectionId": "people"})
        finally:
            db.execute("DROP TRIGGER no_audit")
            db.commit()
            db.close()
        self.ok(self.cop, "SearchFacesByImage", {"CollectionId": "people", "Image": image(SAMPLE[0])})

    def test_tampering_is_found_and_named(self):
        self.searches()
        self.assertEqual(self.server.stop(), 0)
        src = self.server.data_dir
        n = len(audit_records(src))
        self.assertGreaterEqual(n, 6)

        def tampered(sql):
            d = tempfile.mkdtemp(prefix="argus-tamper-")
            for name in ("argus.db", "argus.key", "audit-head.log"):
                shutil.copy(os.path.join(src, name), d)
            db = sqlite3.connect(os.path.join(d, "argus.db"))
            db.executescript(sql)
            db.commit()
            db.close()
            out = argus("audit", "verify", "--data-dir", d, check=False)
            shutil.rmtree(d)
            return out

        untouched = tampered("")
        self.assertEqual(untouched.returncode, 0, untouched.stderr)
        self.assertIn("verified: %d records" % n, untouched.stdout)
        cases = {
            "edit": ("UPDATE audit_log SET decision = 'deny' WHERE seq = 4", 4),
            "edit the similarity": ("UPDATE audit_log SET top_similarity = 12.5 WHERE seq = 5", 5),
            "delete": ("DELETE FROM audit_log WHERE seq = 3", 3),
            "delete the last": ("DELETE FROM audit_log WHERE seq = %d" % n, n),
            "reorder": ("UPDATE audit_log SET seq = 1000 WHERE seq = 2; "
                        "UPDATE audit_log SET seq = 2 WHERE seq = 3; "
                        "UPDATE audit_log SET seq = 3 WHERE seq = 1000;", 2),
            "insert": ("INSERT INTO audit_log SELECT %d, time_ms, kind, 'forged', principal, "
                       "org_type, purpose, case_id, authorisation, operation, op_class, collection, "
                       "decision, rule, threshold_asked, threshold_applied, max_results, "
                       "human_review, matches, top_similarity, outcome, detail, hash, hash "
                       "FROM audit_log WHERE seq = %d" % (n + 1, n), n + 1),
        }
        for name, (sql, bad) in cases.items():
            out = tampered(sql)
            self.assertEqual(out.returncode, 1, (name, out.stdout))
            self.assertIn("BROKEN at record %d:" % bad, out.stderr, name)

    def test_transparency_report(self):
        self.searches()
        d = self.server.data_dir
        rep = json.loads(argus("report", "transparency", "--since", "2000-01-01",
                               "--until", "2999-01-01", "--data-dir", d).stdout)
        self.assertTrue(rep["audit_chain"]["verified"])
        rows = {(r["org_type"], r["operation_class"], r["decision"]): r["count"] for r in rep["requests"]}
        self.assertGreaterEqual(rows[("law_enforcement", "face_identification_1toN", "allow")], 4)
        self.assertEqual(rows[("law_enforcement", "face_enrollment", "allow")], 1)
        self.assertTrue(any(t["threshold_applied"] == 90 for t in rep["thresholds"]), rep["thresholds"])
        html = argus("report", "transparency", "--format", "html", "--data-dir", d).stdout
        self.assertIn("<h1>Transparency report</h1>", html)
        self.assertIn("face_identification_1toN", html)
        empty = json.loads(argus("report", "transparency", "--since", "1990-01-01", "--until",
                                 "1991-01-01", "--data-dir", d).stdout)
        self.assertEqual(empty["audited_requests"], 0)

    def first_face_id(self):
        out, _ = self.ok(self.cop, "ListFaces", {"CollectionId": "people"})
        return out["Faces"][0]["FaceId"]


class PolicyFiles(unittest.TestCase):
    def test_a_bad_policy_file_refuses_to_start_saying_where(self):
        d = tempfile.mkdtemp(prefix="argus-policy-")
        path = os.path.join(d, "mine.json")
        with open(path, "w") as f:
            f.write('{"name": "mine", "rules": [\n  {"id": "x", "effect": "deny",\n'
                    '   "when": {"org_types": ["police"]}}]}')
        out = argus("serve", "--data-dir", d, "--port", "1", "--policy", path, check=False)
        self.assertEqual(out.returncode, 3)  # a start-up failure
        self.assertIn(path + ": rules[0].when.org_types[0]: unknown organisation type 'police'",
                      out.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "argus.db")))  # refused before anything
        shutil.rmtree(d)

    def test_policy_show_and_test(self):
        out = argus("policy", "show", "--policy", "moratorium-2020,eu-ai-act-art5", "--json")
        names = [p["name"] for p in json.loads(out.stdout)]
        self.assertEqual(names, ["moratorium-2020", "eu-ai-act-art5"])
        out = argus("policy", "test", "--org-type", "law_enforcement", "--purpose", "investigation",
                    "--op", "SearchFacesByImage", check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("DENY", out.stdout)
        self.assertIn("law-enforcement-no-identification", out.stdout)
        out = argus("policy", "test", "--org-type", "law_enforcement", "--purpose", "investigation",
                    "--op", "SearchFacesByImage", "--at", "2020-06-01")
        self.assertIn("ALLOW", out.stdout)
        self.assertIn("before 2020-06-10", out.stdout)
        out = json.loads(argus("policy", "test", "--org-type", "child_safety", "--purpose",
                               "missing_persons", "--op", "face_identification_1toN",
                               "--json").stdout)
        self.assertEqual((out["decision"], out["constraints"]["threshold_floor"]), ("allow", 99))


if __name__ == "__main__":
    unittest.main()
