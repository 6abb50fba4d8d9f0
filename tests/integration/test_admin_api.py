"""The ArgusAdmin operations (docs/API.md#admin-operations) against the real
server: administrator keys only, each answer checked against what the
command line says of the same data dir, and bad members refused."""
import json
import os
import subprocess
import unittest
import urllib.request

from harness import ARGUS_BIN, Server, create_key, temp_dir


def admin(server, op, body, key):
    return server.post("ArgusAdmin." + op, json.dumps(body), access_key=key["AccessKeyId"],
                       secret_key=key["SecretAccessKey"])


class AdminApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        data = temp_dir("argus-admin-")
        cls.admin_key = create_key(data, "boss", "commercial", "photo_organization", "--admin")
        cls.user_key = create_key(data, "app", "commercial", "photo_organization")
        cls.report = os.path.join(temp_dir("argus-admin-report-"), "report.json")
        with open(cls.report, "w") as f:
            json.dump({"groups": [{"name": "female/white", "fmr": {"80": 0.01}}]}, f)
        cls.server = Server("--demographics-report", cls.report, data_dir=data, issue_key=False)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def call(self, op, body=None, key=None):
        return admin(self.server, op, body or {}, key or self.admin_key)

    def test_non_admin_keys_are_refused(self):
        for op in ("GetPolicies", "TestPolicy", "ListAuditRecords", "VerifyAudit",
                   "GetTransparencyReport", "GetDemographicsReport"):
            status, _, body = self.call(op, {}, self.user_key)
            self.assertEqual(status, 400, op)
            self.assertEqual(body["__type"], "AccessDeniedException", op)
            self.assertIn("administrator keys only", body["message"])

    def test_unknown_admin_operation(self):
        status, _, body = self.call("DropEverything")
        self.assertEqual(body["__type"], "UnknownOperationException")

    def test_get_policies_is_policy_show(self):
        status, _, body = self.call("GetPolicies")
        self.assertEqual(status, 200, body)
        shown = subprocess.run([ARGUS_BIN, "policy", "show", "--json"], capture_output=True,
                               text=True, check=True)
        self.assertEqual(body["Policies"], json.loads(shown.stdout))
        self.assertEqual(body["Policies"][0]["name"], "moratorium-2020")

    def test_test_policy_denies_and_allows(self):
        status, _, body = self.call("TestPolicy", {"OrganizationType": "law_enforcement",
                                                   "Purpose": "investigation",
                                                   "Operation": "SearchFacesByImage"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["decision"], "deny")
        self.assertIn("law-enforcement-no-identification", body["rule"])
        self.assertIn("Denied by rule", body["message"])
        status, _, body = self.call("TestPolicy", {"OrganizationType": "child_safety",
                                                   "Purpose": "missing_persons",
                                                   "Operation": "face_identification_1toN"})
        self.assertEqual(body["decision"], "allow")
        self.assertEqual(body["constraints"]["threshold_floor"], 99)
        # The command line gives the same decision.
        cli = subprocess.run([ARGUS_BIN, "policy", "test", "--org-type", "child_safety",
                              "--purpose", "missing_persons", "--op", "face_identification_1toN",
                              "--json"], capture_output=True, text=True)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(json.loads(cli.stdout)["constraints"], body["constraints"])

    def test_test_policy_bad_members(self):
        for req, word in (({"OrganizationType": "police", "Purpose": "investigation",
                            "Operation": "SearchFaces"}, "OrganizationType"),
                          ({"OrganizationType": "commercial", "Purpose": "fun",
                            "Operation": "SearchFaces"}, "Purpose"),
                          ({"OrganizationType": "commercial", "Purpose": "testing",
                            "Operation": "Nope"}, "Operation"),
                          ({"OrganizationType": 3}, "OrganizationType"),
                          ({"OrganizationType": "commercial", "Purpose": "testing",
                            "Operation": "SearchFaces", "At": "yesterday"}, "At")):
            status, _, body = self.call("TestPolicy", req)
            self.assertEqual(status, 400, req)
            self.assertEqual(body["__type"], "InvalidParameterException", req)
            self.assertIn(word, body["message"])

    def test_audit_records_pages_and_verifies(self):
        # A denied search by a law-enforcement key makes a record.
        police = create_key(self.server.data_dir, "police", "law_enforcement", "investigation")
        status, _, body = self.server.post(
            "RekognitionService.SearchFaces", json.dumps({"CollectionId": "x", "FaceId":
                                                          "11111111-1111-1111-1111-111111111111"}),
            access_key=police["AccessKeyId"], secret_key=police["SecretAccessKey"])
        self.assertEqual(body["__type"], "AccessDeniedException")
        status, _, first = self.call("ListAuditRecords", {"MaxResults": 1})
        self.assertEqual(status, 200, first)
        self.assertEqual(len(first["Records"]), 1)
        self.assertEqual(first["Records"][0]["seq"], 1)
        status, _, rest = self.call("ListAuditRecords", {"NextToken": first["NextToken"]})
        self.assertTrue(all(r["seq"] > 1 for r in rest["Records"]))
        denied = [r for r in rest["Records"] if r.get("principal") == "police"]
        self.assertEqual(denied[-1]["decision"], "deny")
        # Each read of the log is itself recorded, once answered: the newest
        # record is now the read that answered `rest`.
        _, _, newest = self.call("ListAuditRecords", {"Newest": True, "MaxResults": 1})
        read = newest["Records"][-1]
        self.assertEqual(read["seq"], rest["Records"][-1]["seq"] + 1)
        self.assertEqual((read["operation"], read["op_class"], read["principal"],
                          read["decision"]), ("ListAuditRecords", "admin", "boss", "allow"))
        status, _, v = self.call("VerifyAudit")
        self.assertEqual(status, 200, v)
        self.assertTrue(v["Verified"])
        self.assertEqual(v["HeadSequence"], read["seq"] + 1)  # the Newest read
        status, _, v = self.call("VerifyAudit", {"ExpectHead": "1:" + "0" * 64})
        self.assertFalse(v["Verified"])
        for bad in ({"MaxResults": 0}, {"MaxResults": "5"}, {"NextToken": "abc"}):
            status, _, body = self.call("ListAuditRecords", bad)
            self.assertEqual(body["__type"], "InvalidParameterException", bad)

    def test_transparency_report(self):
        status, _, body = self.call("GetTransparencyReport", {"Since": "2020-01-01"})
        self.assertEqual(status, 200, body)
        self.assertIn("requests", body["Report"])
        self.assertTrue(body["Report"]["audit_chain"]["verified"])

    def test_demographics_report(self):
        status, _, body = self.call("GetDemographicsReport")
        self.assertEqual(status, 200, body)
        with open(self.report) as f:
            self.assertEqual(body["Report"], json.load(f))

    def test_metrics_name_admin_operations(self):
        self.call("VerifyAudit")
        with urllib.request.urlopen(self.server.url + "/metrics") as r:
            self.assertIn('operation="ArgusAdmin.VerifyAudit"', r.read().decode())


class NoReportTest(unittest.TestCase):
    def test_missing_report_says_how_to_make_one(self):
        server = Server("--no-auth")
        try:
            status, _, body = server.post("ArgusAdmin.GetDemographicsReport", "{}", sign=False)
            self.assertEqual(body["__type"], "ResourceNotFoundException")
            self.assertIn("argus eval demographics", body["message"])
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
