"""The data dir holds biometric templates and the audit log: the directory is
0700 and every file in it 0600 (database, write-ahead log, shared memory,
snapshots, keys, anchor), whether the server creates it or finds it open."""
import base64
import json
import os
import stat
import subprocess
import time
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, Server, temp_dir

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")


def modes(root):
    out = {root: stat.S_IMODE(os.stat(root).st_mode)}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            out[p] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


class FileModes(unittest.TestCase):
    def assertPrivate(self, root):
        seen = modes(root)
        for path, mode in seen.items():
            want = 0o700 if os.path.isdir(path) else 0o600
            self.assertEqual(mode, want, "%s is %o" % (path, mode))
        return seen

    def test_data_dir_and_files_are_private(self):
        data_dir = os.path.join(temp_dir("argus-modes-"), "data")
        old = os.umask(0o022)
        try:
            server = Server("--hnsw-threshold", "1", data_dir=data_dir)
        finally:
            os.umask(old)
        with open(SAMPLE, "rb") as f:
            image = {"Bytes": base64.b64encode(f.read()).decode()}
        for op, body in [("CreateCollection", {"CollectionId": "m"}),
                         ("IndexFaces", {"CollectionId": "m", "Image": image}),
                         ("IndexFaces", {"CollectionId": "m", "Image": image,
                                         "ExternalImageId": "b"})]:
            s, _, out = server.post("RekognitionService." + op, json.dumps(body))
            self.assertEqual(s, 200, out)
        time.sleep(2)  # the background rebuild, so stopping snapshots
        # While running: the database with its write-ahead log and shared memory.
        seen = self.assertPrivate(data_dir)
        names = {os.path.basename(p) for p in seen}
        self.assertTrue({"argus.db", "argus.db-wal", "argus.db-shm", "argus.key",
                         "audit-head.log"} <= names, names)
        self.assertEqual(server.stop(), 0)
        self.assertTrue(os.listdir(os.path.join(data_dir, "index")))
        self.assertPrivate(data_dir)

        # A data dir left open (an older version, or a careless copy) is made
        # private at the next start, and the log says so.
        os.chmod(data_dir, 0o755)
        for path in modes(data_dir):
            if path != data_dir:
                os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
        server = Server(data_dir=data_dir)
        self.assertPrivate(data_dir)
        self.assertEqual(server.stop(), 0)
        self.assertIn("made private", server.logs())

        # The CLI commands that write the data dir keep it private too.
        fresh = os.path.join(temp_dir("argus-modes-"), "cli")
        out = subprocess.run([ARGUS_BIN, "collections", "create", "c", "--data-dir", fresh,
                              "--model-dir", MODEL_DIR], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        out = subprocess.run([ARGUS_BIN, "retention", "purge", "--data-dir", fresh],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertPrivate(fresh)


if __name__ == "__main__":
    unittest.main()
