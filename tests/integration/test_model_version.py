"""Face model versions are numeric ([0-9.]+) everywhere, and a data dir whose
collections hold the older descriptive version keeps working."""
import json
import os
import re
import sqlite3
import subprocess
import unittest

from harness import ARGUS_BIN, FACEAPI_DEMO, MODEL_DIR, temp_dir

PATTERN = re.compile(r"^[0-9.]+$")


def collections(data_dir, *args):
    run = subprocess.run([ARGUS_BIN, "collections", *args, "--data-dir", data_dir,
                          "--model-dir", MODEL_DIR], capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        raise AssertionError(" ".join(args) + ": " + run.stderr)
    return json.loads(run.stdout) if run.stdout.strip().startswith("{") else run.stdout


class ModelVersion(unittest.TestCase):
    def test_numeric_and_old_data_dirs_map_on_read(self):
        data = temp_dir("argus-mv-")
        images = temp_dir("argus-mv-img-")
        os.symlink(os.path.join(FACEAPI_DEMO, "sample1.jpg"), os.path.join(images, "a.jpg"))
        created = collections(data, "create", "new")
        self.assertEqual(created["FaceModelVersion"], "1.0")
        collections(data, "create", "old")
        collections(data, "index", "old", images)
        # As a data dir written before the versions were numbers.
        db = sqlite3.connect(os.path.join(data, "argus.db"))
        db.execute("UPDATE collections SET face_model_version = 'argus-dlib128-1.0' "
                   "WHERE id = 'old'")
        db.execute("UPDATE faces SET model_version = 'argus-dlib128-1.0'")
        db.commit()
        db.close()
        described = collections(data, "describe", "old")
        self.assertEqual(described["FaceModelVersion"], "1.0")
        faces = collections(data, "faces", "old")
        self.assertEqual(faces["FaceModelVersion"], "1.0")
        self.assertEqual(len(faces["Faces"]), 3)
        for face in faces["Faces"]:
            self.assertRegex(face["IndexFacesModelVersion"], PATTERN)
        # Still the same embedder: more faces may be indexed and searched.
        collections(data, "index", "old", images)
        found = collections(data, "search", "old", os.path.join(images, "a.jpg"))
        self.assertEqual(found["FaceModelVersion"], "1.0")
        self.assertTrue(found["FaceMatches"])


if __name__ == "__main__":
    unittest.main()
