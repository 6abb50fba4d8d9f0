"""`--s3-root DIR` maps S3Object {Bucket B, Name K} to DIR/B/K. A bucket's
real path must lie inside the root's and an object's inside its bucket's;
only regular files are read; "outside" answers exactly as "missing", so the
answer tells nothing about files outside the root."""
import json
import os
import shutil
import unittest

from harness import FACEAPI_DEMO, Server, temp_dir

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")
DETECT = "RekognitionService.DetectFaces"
NOT_FOUND = ("Unable to get object metadata from S3. Check object key, region and/or access "
             "permissions.")


class S3RootTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        base = temp_dir("argus-s3-")
        cls.root = os.path.join(base, "root")
        cls.outside = os.path.join(base, "outside")
        os.makedirs(os.path.join(cls.root, "photos", "dir.jpg"))
        os.makedirs(os.path.join(cls.root, "other"))
        os.makedirs(cls.outside)
        shutil.copy(SAMPLE, os.path.join(cls.root, "photos", "one.jpg"))
        shutil.copy(SAMPLE, os.path.join(cls.root, "other", "two.jpg"))
        shutil.copy(SAMPLE, os.path.join(cls.outside, "secret.jpg"))
        # A bucket that is itself a link out of the root.
        os.symlink(cls.outside, os.path.join(cls.root, "linked"))
        # A bucket linked to another bucket inside the root.
        os.symlink(os.path.join(cls.root, "photos"), os.path.join(cls.root, "alias"))
        # Objects linked out of the root, to a missing file, to /etc.
        os.symlink(os.path.join(cls.outside, "secret.jpg"),
                   os.path.join(cls.root, "photos", "escape.jpg"))
        os.symlink(os.path.join(cls.outside, "gone.jpg"),
                   os.path.join(cls.root, "photos", "dangling.jpg"))
        os.symlink("/etc", os.path.join(cls.root, "photos", "etc"))
        os.symlink("/etc", os.path.join(cls.root, "etcbucket"))
        # The root itself reached through a link: a bucket named after it.
        os.symlink(cls.root, os.path.join(cls.root, "self"))
        os.symlink(os.path.join(cls.root, "other", "two.jpg"),
                   os.path.join(cls.root, "photos", "cross.jpg"))
        os.mkfifo(os.path.join(cls.root, "photos", "fifo.jpg"))
        cls.server = Server("--s3-root", cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def s3(self, bucket, name):
        status, _, body = self.server.post(
            DETECT, json.dumps({"Image": {"S3Object": {"Bucket": bucket, "Name": name}}}))
        return status, body

    def assert_not_found(self, bucket, name):
        status, body = self.s3(bucket, name)
        self.assertEqual((status, body), (400, {"__type": "InvalidS3ObjectException",
                                                "message": NOT_FOUND}), (bucket, name))

    def test_a_normal_object_is_read(self):
        status, body = self.s3("photos", "one.jpg")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["FaceDetails"]), 3)

    def test_a_bucket_linked_inside_the_root_is_read(self):
        status, body = self.s3("alias", "one.jpg")
        self.assertEqual(status, 200, body)

    def test_bucket_symlinked_outside_the_root_is_refused(self):
        self.assert_not_found("linked", "secret.jpg")
        self.assert_not_found("etcbucket", "passwd")
        self.assert_not_found("etcbucket", "shadow")

    def test_object_symlinked_outside_the_root_is_refused(self):
        self.assert_not_found("photos", "escape.jpg")
        self.assert_not_found("photos", "etc/passwd")
        self.assert_not_found("photos", "etc/hostname")

    def test_bucket_linked_to_the_root_itself_is_refused(self):
        self.assert_not_found("self", "other/two.jpg")

    def test_object_symlinked_into_another_bucket_is_refused(self):
        self.assert_not_found("photos", "cross.jpg")

    def test_directory_as_object_is_refused(self):
        self.assert_not_found("photos", "dir.jpg")

    def test_fifo_as_object_is_refused_without_hanging(self):
        self.assert_not_found("photos", "fifo.jpg")

    def test_missing_and_outside_answer_identically(self):
        answers = {self.s3(b, k) == self.s3("photos", "missing.jpg") and (b, k)
                   for b, k in (("photos", "escape.jpg"), ("linked", "secret.jpg"),
                                ("linked", "missing.jpg"), ("photos", "dangling.jpg"),
                                ("nobucket", "one.jpg"), ("photos", "etc/shadow"),
                                ("etcbucket", "nothing-here"))}
        self.assertNotIn(False, answers)


if __name__ == "__main__":
    unittest.main()
