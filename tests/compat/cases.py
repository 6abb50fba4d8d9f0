"""The compatibility cases: one table, run in order by every client.

To cover a new operation, append Case rows. A row names the operation, its
request (a dict, or a function of the Context for names, fixtures and values
saved by earlier rows), and either a check of the parsed output or the error
code every client must report. `clients` narrows a row to the clients whose
model knows the operation (Debian's boto3 and aws CLI predate the Users
operations: use clients=JS_ONLY). Rows run in table order for each client
separately, so a row may rely on what an earlier row created; use
ctx.name("base") for resource names so the clients do not collide.
"""
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from clients import Blob

MODEL_DIR = os.environ.get("ARGUS_MODEL_DIR") or os.path.expanduser("~/.cache/argus/models")
FACEAPI_DEMO = os.path.join(MODEL_DIR, "packages/face-api/package/demo")
SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")  # three faces

ALL_CLIENTS = ("aws-cli", "boto3", "js-sdk")
JS_ONLY = ("js-sdk",)


def gray_png(w, h, value=128):
    raw = b"".join(b"\x00" + bytes([value]) * (w * 3) for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def sample_bytes():
    with open(SAMPLE, "rb") as f:
        return f.read()


class Context:
    """What a row may use: the client's name, fixtures, and a scratch dict."""

    def __init__(self, client, s3_bucket):
        self.client = client
        self.s3_bucket = s3_bucket  # a bucket under the server's --s3-root holding sample1.jpg
        self.saved = {}

    def name(self, base):
        return "compat-%s-%s" % (base, self.client.replace("-", ""))


@dataclass
class Case:
    name: str
    operation: str
    params: Union[dict, Callable[[Context], dict]]
    check: Optional[Callable[[dict, Context], None]] = None
    error: Optional[str] = None  # expected error code
    clients: tuple = ALL_CLIENTS

    def request(self, ctx):
        return self.params(ctx) if callable(self.params) else self.params


def check_three_faces(out, ctx):
    faces = out["FaceDetails"]
    assert len(faces) == 3, faces
    for f in faces:
        assert f["Confidence"] > 90, f
        for k in ("Left", "Top", "Width", "Height"):
            assert 0 <= f["BoundingBox"][k] <= 1, f["BoundingBox"]
        assert sorted(l["Type"] for l in f["Landmarks"]) == [
            "eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"], f["Landmarks"]
        assert set(f["Pose"]) == {"Roll", "Yaw", "Pitch"}, f["Pose"]


def check_thirty_landmarks(out, ctx):
    assert len(out["FaceDetails"]) == 3
    for f in out["FaceDetails"]:
        assert len({l["Type"] for l in f["Landmarks"]}) == 30, f["Landmarks"]


def check_no_faces(out, ctx):
    assert out["FaceDetails"] == [], out


CASES = [
    Case("detect_faces", "DetectFaces",
         lambda ctx: {"Image": {"Bytes": Blob(sample_bytes())}}, check_three_faces),
    Case("detect_faces_all", "DetectFaces",
         lambda ctx: {"Image": {"Bytes": Blob(sample_bytes())}, "Attributes": ["ALL"]},
         check_thirty_landmarks),
    Case("detect_faces_none", "DetectFaces",
         {"Image": {"Bytes": Blob(gray_png(120, 90))}}, check_no_faces),
    Case("detect_faces_s3object", "DetectFaces",
         lambda ctx: {"Image": {"S3Object": {"Bucket": ctx.s3_bucket, "Name": "people/sample1.jpg"}}},
         check_three_faces),
    Case("detect_faces_s3object_traversal", "DetectFaces",
         lambda ctx: {"Image": {"S3Object": {"Bucket": ctx.s3_bucket, "Name": "../outside.jpg"}}},
         error="InvalidS3ObjectException"),
    Case("detect_faces_not_an_image", "DetectFaces",
         {"Image": {"Bytes": Blob(b"plain text pretending to be a photo")}},
         error="InvalidImageFormatException"),
    Case("detect_faces_bad_attribute", "DetectFaces",
         lambda ctx: {"Image": {"Bytes": Blob(gray_png(80, 80))}, "Attributes": ["NOT_AN_ATTRIBUTE"]},
         error="InvalidParameterException"),
]
