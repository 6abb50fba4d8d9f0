"""`cmake --install` into a temporary prefix, then the installed binary end to
end (keys create, serve, one signed DetectFaces); the .deb (CPack); the
installed model set-up
script finds its manifest; the systemd unit passes `systemd-analyze verify`."""
import base64
import json
import os
import shutil
import subprocess
import sys
import unittest

import harness
from harness import FACEAPI_DEMO, MODEL_DIR, temp_dir

BUILD_DIR = os.environ.get("ARGUS_BUILD_DIR", os.path.join(os.path.dirname(__file__),
                                                           "../../build"))


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = temp_dir("argus-prefix-")
        subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix, "--strip"],
                       check=True, capture_output=True, timeout=300)
        cls.bin = os.path.join(cls.prefix, "bin", "argus")

    def test_layout(self):
        for path in ("bin/argus", "share/argus/models/faceapi.json",
                     "share/argus/tools/setup_models.py", "share/argus/tools/convert/faceapi.py",
                     "share/argus/policies/moratorium-2020.json", "share/doc/argus/README.md",
                     "share/doc/argus/API.md", "lib/systemd/system/argus.service",
                     "share/argus/argus.default"):
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, path)), path)
        self.assertTrue(os.access(self.bin, os.X_OK))

    def test_installed_binary_serves_a_signed_detect_faces(self):
        version = subprocess.run([self.bin, "--version"], capture_output=True, text=True)
        self.assertEqual(version.returncode, 0)
        built = harness.ARGUS_BIN
        harness.ARGUS_BIN = self.bin  # create_key and Server run the installed binary
        try:
            server = harness.Server()
            with open("/proc/%d/cmdline" % server.proc.pid) as f:
                self.assertEqual(f.read().split("\0")[0], self.bin)
        finally:
            harness.ARGUS_BIN = built
        try:
            with open(os.path.join(FACEAPI_DEMO, "sample1.jpg"), "rb") as f:
                body = json.dumps({"Image": {"Bytes": base64.b64encode(f.read()).decode()}})
            status, _, answer = server.post("RekognitionService.DetectFaces", body)
        finally:
            self.assertEqual(server.stop(), 0)
        self.assertEqual(status, 200, answer)
        self.assertEqual(len(answer["FaceDetails"]), 3)

    def test_installed_model_setup_reads_the_installed_manifest(self):
        run = subprocess.run([sys.executable,
                              os.path.join(self.prefix, "share/argus/tools/setup_models.py"),
                              "--model-dir", MODEL_DIR], capture_output=True, text=True,
                             timeout=600)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("18 models", run.stdout)

    def test_debian_package(self):
        out = temp_dir("argus-deb-")
        subprocess.run(["cpack", "-G", "DEB", "-B", out, "--config",
                        os.path.join(BUILD_DIR, "CPackConfig.cmake")],
                       check=True, capture_output=True, timeout=600)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, os.listdir(out))
        deb = os.path.join(out, debs[0])
        info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True, text=True,
                              check=True).stdout
        self.assertIn("Package: argus", info)
        self.assertIn("libopencv-dnn", info)  # shared-library dependencies found
        self.assertIn("postinst", info)
        files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                               check=True).stdout
        for path in ("./usr/bin/argus", "./usr/lib/systemd/system/argus.service",
                     "./usr/share/argus/models/faceapi.json", "./usr/share/argus/argus.default"):
            self.assertIn(path, files)
        postinst = subprocess.run(["dpkg-deb", "-I", deb, "postinst"], capture_output=True,
                                  text=True, check=True).stdout
        self.assertIn("adduser --system", postinst)
        self.assertNotIn("./usr/etc/", files)

    def test_systemd_unit_verifies(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        unit_dir = temp_dir("argus-unit-")
        with open(os.path.join(self.prefix, "lib/systemd/system/argus.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/bin/argus serve --data-dir /var/lib/argus", unit)
        for option in ("User=argus", "ProtectSystem=strict", "NoNewPrivileges=yes",
                       "StateDirectory=argus", "/var/cache/argus/models"):
            self.assertIn(option, unit)
        # Verified against the binary just installed (not yet in /usr/bin).
        path = os.path.join(unit_dir, "argus.service")
        with open(path, "w") as f:
            f.write(unit.replace("/usr/bin/argus", self.bin))
        run = subprocess.run([analyze, "verify", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stderr.strip(), "")


if __name__ == "__main__":
    unittest.main()
