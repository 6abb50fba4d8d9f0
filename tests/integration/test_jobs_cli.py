"""`argus jobs list|describe|cancel` on a data dir whose job table holds
rows written as the job engine writes them."""
import os
import sqlite3
import subprocess
import unittest

import harness


def argus(*args):
    return subprocess.run([harness.ARGUS_BIN, *args], capture_output=True, text=True, timeout=60)


COLUMNS = ("id, api, owner, request, client_token, job_tag, notification, state, queued, "
           "status_message, progress, metadata, created_ms, started_ms, completed_ms, "
           "result_count, attempts, cancel_requested")


class JobsCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = harness.temp_dir("argus-jobs-cli-")
        # Any command that opens the data dir creates the store and its tables.
        r = argus("retention", "purge", "--data-dir", cls.data)
        assert r.returncode == 0, r.stderr
        cls.db = os.path.join(cls.data, "argus.db")

    def setUp(self):
        with sqlite3.connect(self.db) as c:
            c.execute("DELETE FROM jobs")
            rows = [
                ("a" * 64, "StartFaceDetection", "alice", "{}", "", "", "", "SUCCEEDED", 0, "",
                 1.0, "", 1000, 1100, 5000, 3, 1, 0),
                ("b" * 64, "StartLabelDetection", "bob", "{}", "", "tag-b", "", "IN_PROGRESS", 0,
                 "", 0.42, "", 2000, 2100, 0, 0, 2, 0),
                ("c" * 64, "StartFaceDetection", "alice", "{}", "", "", "", "IN_PROGRESS", 1, "",
                 0.0, "", 3000, 0, 0, 0, 0, 0),
                ("d" * 64, "StartFaceDetection", "alice", "{}", "", "", "", "FAILED", 0,
                 "the video cannot be decoded", 0.1, "", 500, 600, 700, 0, 1, 0),
            ]
            c.executemany(f"INSERT INTO jobs ({COLUMNS}) VALUES ({','.join('?' * 18)})", rows)

    def job(self, jid):
        with sqlite3.connect(self.db) as c:
            c.row_factory = sqlite3.Row
            return dict(c.execute("SELECT * FROM jobs WHERE id = ?", (jid,)).fetchone())

    def test_list_is_newest_first_and_filters(self):
        r = argus("jobs", "list", "--data-dir", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("JOB_ID", lines[0])
        self.assertEqual([l[:1] for l in lines[1:]], ["c", "b", "a", "d"])
        r = argus("jobs", "list", "--state", "IN_PROGRESS", "--data-dir", self.data)
        self.assertEqual([l[:1] for l in r.stdout.splitlines()[1:]], ["c", "b"])
        r = argus("jobs", "list", "--api", "StartLabelDetection", "--data-dir", self.data)
        self.assertEqual([l[:1] for l in r.stdout.splitlines()[1:]], ["b"])
        self.assertIn("42%", r.stdout)
        r = argus("jobs", "list", "--state", "DONE", "--data-dir", self.data)
        self.assertEqual(r.returncode, 2)

    def test_describe_shows_state_progress_attempts_and_message(self):
        r = argus("jobs", "describe", "b" * 64, "--data-dir", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("IN_PROGRESS (running)", r.stdout)
        self.assertIn("42%", r.stdout)
        self.assertIn("[#############", r.stdout)
        self.assertRegex(r.stdout, r"Attempts:\s+2")
        self.assertIn("tag-b", r.stdout)
        r = argus("jobs", "describe", "d" * 64, "--data-dir", self.data)
        self.assertIn("the video cannot be decoded", r.stdout)
        self.assertRegex(r.stdout, r"Completed:\s+1970-01-01 00:00:00 UTC")
        r = argus("jobs", "describe", "f" * 64, "--data-dir", self.data)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not found", r.stderr)

    def test_cancel_fails_a_queued_job_and_flags_a_running_one(self):
        r = argus("jobs", "cancel", "c" * 64, "--data-dir", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        c = self.job("c" * 64)
        self.assertEqual((c["state"], c["status_message"]), ("FAILED", "Cancelled"))
        self.assertGreater(c["completed_ms"], 0)

        r = argus("jobs", "cancel", "b" * 64, "--data-dir", self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        b = self.job("b" * 64)
        self.assertEqual(b["state"], "IN_PROGRESS")
        self.assertEqual(b["cancel_requested"], 1)

        r = argus("jobs", "cancel", "a" * 64, "--data-dir", self.data)
        self.assertEqual(r.returncode, 0)
        self.assertIn("already finished", r.stdout)
        self.assertEqual(self.job("a" * 64)["state"], "SUCCEEDED")

        r = argus("jobs", "cancel", "f" * 64, "--data-dir", self.data)
        self.assertEqual(r.returncode, 1)

    def test_usage_and_missing_data_dir(self):
        self.assertEqual(argus("jobs").returncode, 2)
        self.assertEqual(argus("jobs", "describe").returncode, 2)
        r = argus("jobs", "list", "--data-dir", os.path.join(self.data, "nowhere"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no argus database", r.stderr)


if __name__ == "__main__":
    unittest.main()
