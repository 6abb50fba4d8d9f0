"""README.md's boto3 session works as written: its `argus keys create` line
and its Python block, run against a real server (only the endpoint's port
and the binary's path are changed)."""
import os
import re
import shutil
import subprocess
import sys
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, Server, temp_dir

README = os.path.join(os.environ.get("ARGUS_SOURCE_DIR", os.path.join(os.path.dirname(__file__),
                                                                        "../..")), "README.md")


def blocks_after_marker():
    with open(README) as f:
        text = f.read()
    start = text.index("<!-- README test:")
    sh, py = re.findall(r"```(?:sh|python)\n(.*?)```", text[start:], re.S)[:2]
    return sh.strip(), py


class Readme(unittest.TestCase):
    def test_boto3_session(self):
        sh, py = blocks_after_marker()
        self.assertTrue(sh.startswith("build/argus keys create"), sh)
        server = Server(issue_key=False)
        try:
            work = temp_dir("argus-readme-")
            shutil.copy(os.path.join(FACEAPI_DEMO, "sample1.jpg"), os.path.join(work, "photo.jpg"))
            command = sh.replace("build/argus", ARGUS_BIN, 1).split(">")[0].split()
            with open(os.path.join(work, "case-team.json"), "w") as out:
                subprocess.run(command + ["--data-dir", server.data_dir], stdout=out, check=True,
                               timeout=60)
            script = py.replace("http://127.0.0.1:8080", server.url)
            run = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True,
                                 text=True, timeout=300)
        finally:
            server.stop()
        self.assertEqual(run.returncode, 0, run.stderr)
        version, matches = run.stdout.split(" ", 1)
        self.assertRegex(version, r"^[0-9.]+$")
        self.assertIn("'photo'", matches)


if __name__ == "__main__":
    unittest.main()
