"""Black-box tests of the media analysis job operations (StartMediaAnalysisJob,
GetMediaAnalysisJob, ListMediaAnalysisJobs): the real `argus serve` with
--s3-root, called through boto3. Debian's botocore model predates these
operations, so the client's model is completed from the same supplement the
server's validators are generated from (tools/rekognition/)."""
import json
import os
import shutil
import stat
import time
import unittest

import botocore.session
from botocore.exceptions import ClientError

from harness import FACEAPI_DEMO, Server, temp_dir
from harness import client_model_dir as harness_client_model_dir

SOURCE_DIR = os.environ.get("ARGUS_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "../.."))
SUPPLEMENT = os.path.join(SOURCE_DIR, "tools/rekognition/media_analysis_operations.json")
IMAGES = [os.path.join(FACEAPI_DEMO, "sample1.jpg"), os.path.join(FACEAPI_DEMO, "sample2.jpg")]


def client_model_dir():
    """A botocore data folder whose Rekognition model has the media analysis
    operations (Debian's model plus the supplement)."""
    return harness_client_model_dir(SUPPLEMENT)


class MediaAnalysisTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = temp_dir("argus-s3-")
        os.makedirs(os.path.join(cls.s3, "inputs", "img"))
        os.makedirs(os.path.join(cls.s3, "outputs"))
        for i, path in enumerate(IMAGES):
            shutil.copy(path, os.path.join(cls.s3, "inputs", "img", "%d.jpg" % i))
        cls.outside = temp_dir("argus-outside-")
        cls.server = Server("--s3-root", cls.s3)
        session = botocore.session.get_session()
        session.get_component("data_loader").search_paths.insert(0, client_model_dir())
        cls.rek = session.create_client(
            "rekognition", region_name="us-east-1", endpoint_url=cls.server.url,
            aws_access_key_id=cls.server.access_key,
            aws_secret_access_key=cls.server.secret_key)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "argus did not shut down cleanly (rc %s)" % rc

    def manifest(self, name, lines):
        with open(os.path.join(self.s3, "inputs", name), "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return {"S3Object": {"Bucket": "inputs", "Name": name}}

    def start(self, manifest, prefix="runs", **extra):
        args = dict(OperationsConfig={"DetectModerationLabels": {"MinConfidence": 40}},
                    Input=manifest, OutputConfig={"S3Bucket": "outputs", "S3KeyPrefix": prefix})
        args.update(extra)
        return self.rek.start_media_analysis_job(**args)["JobId"]

    def wait(self, job_id):
        deadline = time.time() + 120
        while time.time() < deadline:
            job = self.rek.get_media_analysis_job(JobId=job_id)
            if job["Status"] in ("SUCCEEDED", "FAILED"):
                return job
            time.sleep(0.2)
        self.fail("job %s did not finish: %s" % (job_id, self.server.logs()[-2000:]))

    def read_output(self, s3object):
        self.assertEqual(s3object["Bucket"], "outputs")
        path = os.path.join(self.s3, "outputs", s3object["Name"])
        self.assertEqual(stat.S_IMODE(os.lstat(path).st_mode), 0o600)
        with open(path) as f:
            return f.read()

    def error_code(self, call, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(**kwargs)
        return cm.exception.response["Error"]["Code"]

    def test_results_and_manifest_summary_written_under_output_prefix(self):
        manifest = self.manifest("three.jsonl", [
            json.dumps({"source-ref": "s3://inputs/img/0.jpg"}),
            json.dumps({"source-ref": "s3://inputs/img/1.jpg"}),
            json.dumps({"source-ref": "s3://inputs/img/missing.jpg"}),
        ])
        job_id = self.start(manifest, prefix="runs/first", JobName="three-images")
        job = self.wait(job_id)
        self.assertEqual(job["Status"], "SUCCEEDED", job)
        self.assertEqual(job["JobId"], job_id)
        self.assertEqual(job["JobName"], "three-images")
        self.assertEqual(job["Input"], manifest)
        self.assertEqual(job["OutputConfig"], {"S3Bucket": "outputs", "S3KeyPrefix": "runs/first"})
        self.assertEqual(job["OperationsConfig"]["DetectModerationLabels"]["MinConfidence"], 40)
        self.assertGreaterEqual(job["CompletionTimestamp"], job["CreationTimestamp"])
        self.assertNotIn("FailureDetails", job)
        self.assertEqual(job["Results"]["S3Object"]["Name"], "runs/first/%s/results.jsonl" % job_id)
        self.assertTrue(job["Results"]["ModelVersions"]["Moderation"])
        self.assertEqual(job["ManifestSummary"]["S3Object"]["Name"],
                         "runs/first/%s/manifest-summary.json" % job_id)

        lines = [json.loads(l) for l in self.read_output(job["Results"]["S3Object"]).splitlines()]
        self.assertEqual([l["source-ref"] for l in lines],
                         ["s3://inputs/img/0.jpg", "s3://inputs/img/1.jpg"])
        for i, line in enumerate(lines):
            # Each line holds DetectModerationLabels' answer for its image.
            direct = self.rek.detect_moderation_labels(
                Image={"S3Object": {"Bucket": "inputs", "Name": "img/%d.jpg" % i}},
                MinConfidence=40)
            answer = line["detect-moderation-labels"]
            self.assertEqual(answer["ModerationModelVersion"], direct["ModerationModelVersion"])
            self.assertEqual([l["Name"] for l in answer["ModerationLabels"]],
                             [l["Name"] for l in direct["ModerationLabels"]])
            self.assertIn("ContentTypes", answer)

        summary = json.loads(self.read_output(job["ManifestSummary"]["S3Object"]))
        self.assertEqual(summary["version"], "1.0")
        self.assertEqual(summary["statistics"], {"total-json-lines": 3, "valid-json-lines": 2,
                                                 "invalid-json-lines": 1})
        self.assertEqual(len(summary["errors"]), 1)
        error = summary["errors"][0]
        self.assertEqual(error["line-number"], 3)
        self.assertEqual(error["source-ref"], "s3://inputs/img/missing.jpg")
        self.assertEqual(error["code"], "InvalidS3ObjectException")
        self.assertTrue(error["message"])

    def test_bad_manifest_lines_are_counted_not_fatal(self):
        manifest = self.manifest("bad-lines.jsonl", [
            json.dumps({"source-ref": "s3://inputs/img/0.jpg"}),
            "this is not json",
            json.dumps({"source-ref": "https://example.com/0.jpg"}),
            json.dumps({"image": "s3://inputs/img/1.jpg"}),
            json.dumps({"source-ref": "s3://inputs/../outputs/x.jpg"}),
        ])
        job = self.wait(self.start(manifest, prefix="bad"))
        self.assertEqual(job["Status"], "SUCCEEDED", job)
        summary = json.loads(self.read_output(job["ManifestSummary"]["S3Object"]))
        self.assertEqual(summary["statistics"], {"total-json-lines": 5, "valid-json-lines": 1,
                                                 "invalid-json-lines": 4})
        self.assertEqual([e["line-number"] for e in summary["errors"]], [2, 3, 4, 5])
        self.assertEqual([e["code"] for e in summary["errors"]],
                         ["InvalidManifestException"] * 3 + ["InvalidS3ObjectException"])
        results = self.read_output(job["Results"]["S3Object"]).splitlines()
        self.assertEqual(len(results), 1)

    def test_idempotent_start_with_client_request_token(self):
        manifest = self.manifest("one.jsonl", [json.dumps({"source-ref": "s3://inputs/img/0.jpg"})])
        first = self.start(manifest, prefix="idem", ClientRequestToken="token-1")
        again = self.start(manifest, prefix="idem", ClientRequestToken="token-1")
        self.assertEqual(first, again)
        self.assertEqual(self.error_code(
            self.rek.start_media_analysis_job,
            OperationsConfig={"DetectModerationLabels": {"MinConfidence": 90}}, Input=manifest,
            OutputConfig={"S3Bucket": "outputs", "S3KeyPrefix": "idem"},
            ClientRequestToken="token-1"), "IdempotentParameterMismatchException")
        other = self.start(manifest, prefix="idem", ClientRequestToken="token-2")
        self.assertNotEqual(first, other)
        self.assertEqual(self.wait(first)["Status"], "SUCCEEDED")
        self.assertEqual(self.wait(other)["Status"], "SUCCEEDED")

    def test_output_prefix_traversal_refused(self):
        manifest = self.manifest("trav.jsonl", [json.dumps({"source-ref": "s3://inputs/img/0.jpg"})])
        for prefix in ("../escape", "runs/../../escape", "/abs", "a//b", "./x"):
            with self.subTest(prefix=prefix):
                code = self.error_code(
                    self.rek.start_media_analysis_job,
                    OperationsConfig={"DetectModerationLabels": {}}, Input=manifest,
                    OutputConfig={"S3Bucket": "outputs", "S3KeyPrefix": prefix})
                self.assertEqual(code, "InvalidParameterException")
        for bucket in ("nobucket", "..."):
            with self.subTest(bucket=bucket):
                code = self.error_code(
                    self.rek.start_media_analysis_job,
                    OperationsConfig={"DetectModerationLabels": {}}, Input=manifest,
                    OutputConfig={"S3Bucket": bucket})
                self.assertEqual(code, "InvalidParameterException")
        self.assertFalse(os.path.exists(os.path.join(self.s3, "escape")))

    def test_output_directory_link_out_of_bucket_fails_job(self):
        os.symlink(self.outside, os.path.join(self.s3, "outputs", "linked"))
        manifest = self.manifest("link.jsonl", [json.dumps({"source-ref": "s3://inputs/img/0.jpg"})])
        job = self.wait(self.start(manifest, prefix="linked/run"))
        self.assertEqual(job["Status"], "FAILED", job)
        self.assertEqual(job["FailureDetails"]["Code"], "INVALID_OUTPUT_CONFIG")
        self.assertNotIn("Results", job)
        self.assertEqual(os.listdir(self.outside), [])

    def test_start_refusals(self):
        manifest = self.manifest("ok.jsonl", [json.dumps({"source-ref": "s3://inputs/img/0.jpg"})])
        out = {"S3Bucket": "outputs"}
        start = self.rek.start_media_analysis_job
        self.assertEqual(self.error_code(
            start, OperationsConfig={"DetectModerationLabels": {
                "ProjectVersion": "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1"}},
            Input=manifest, OutputConfig=out), "ResourceNotFoundException")
        self.assertEqual(self.error_code(
            start, OperationsConfig={"DetectModerationLabels": {}}, Input=manifest,
            OutputConfig=out, KmsKeyId="alias/mine"), "InvalidParameterException")
        self.assertEqual(self.error_code(
            start, OperationsConfig={}, Input=manifest, OutputConfig=out),
            "InvalidParameterException")
        self.assertEqual(self.error_code(
            start, OperationsConfig={"DetectModerationLabels": {}},
            Input={"S3Object": {"Bucket": "inputs", "Name": "absent.jsonl"}}, OutputConfig=out),
            "InvalidS3ObjectException")
        self.assertEqual(self.error_code(
            start, OperationsConfig={"DetectModerationLabels": {}},
            Input=self.manifest("empty.jsonl", ["", "  "]), OutputConfig=out),
            "InvalidManifestException")
        self.assertEqual(self.error_code(
            self.rek.get_media_analysis_job, JobId="0" * 64), "ResourceNotFoundException")

    def test_list_pages_through_every_job(self):
        manifest = self.manifest("list.jsonl", [json.dumps({"source-ref": "s3://inputs/img/1.jpg"})])
        started = {self.start(manifest, prefix="list") for _ in range(3)}
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"MaxResults": 1}
            if token:
                kwargs["NextToken"] = token
            page = self.rek.list_media_analysis_jobs(**kwargs)
            pages += 1
            self.assertLessEqual(len(page["MediaAnalysisJobs"]), 1)
            for job in page["MediaAnalysisJobs"]:
                self.assertIn(job["Status"], ("QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED"))
                self.assertIn("CreationTimestamp", job)
                self.assertIn("OperationsConfig", job)
                seen.append(job["JobId"])
            token = page.get("NextToken")
            if not token:
                break
            self.assertLess(pages, 1000)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(started <= set(seen))
        everything = self.rek.list_media_analysis_jobs()["MediaAnalysisJobs"]
        self.assertEqual([j["JobId"] for j in everything], seen)
        self.assertEqual(self.error_code(self.rek.list_media_analysis_jobs, NextToken="bogus"),
                         "InvalidPaginationTokenException")
        for job_id in started:
            self.assertEqual(self.wait(job_id)["Status"], "SUCCEEDED")


if __name__ == "__main__":
    unittest.main()
