"""Decoded-image memory is admitted by size (--image-memory-mb): the largest
image argus accepts always fits, large images beyond the budget wait for
memory instead of piling up, a request whose images cannot fit together even
alone is refused with ThrottlingException, and an image whose header claims
more pixels than the limit is refused before anything is decoded."""
import base64
import json
import struct
import unittest
import zlib
from concurrent.futures import ThreadPoolExecutor

from harness import Server

DETECT = "RekognitionService.DetectFaces"
COMPARE = "RekognitionService.CompareFaces"
LEAST_MB = 144  # one 50 MP image decoded as 8-bit BGR: 143.03 MiB
W, H = 8660, 5773  # 49.99 MP, just within the 50 MP limit


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def gray_png(w, h):
    row = b"\x00" + b"\x80" * (w * 3)
    z = zlib.compressobj(1)
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def image(png):
    return {"Bytes": base64.b64encode(png).decode()}


class ImageMemoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.large = gray_png(W, H)
        cls.server = Server("--image-memory-mb", str(LEAST_MB), "--workers", "2")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_largest_image_fits_the_least_image_memory(self):
        status, _, body = self.server.post(DETECT, json.dumps({"Image": image(self.large)}))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["FaceDetails"], [])

    def test_large_images_beyond_the_budget_wait_instead_of_failing(self):
        request = json.dumps({"Image": image(self.large)})
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: self.server.post(DETECT, request), range(2)))
        for status, _, body in answers:
            self.assertEqual(status, 200, body)

    def test_images_that_cannot_fit_together_are_throttled(self):
        status, _, body = self.server.post(COMPARE, json.dumps(
            {"SourceImage": image(self.large), "TargetImage": image(self.large)}))
        self.assertEqual(body["__type"], "ThrottlingException", body)
        self.assertIn("--image-memory-mb", body["message"])
        # The memory of the first image was given back: the server goes on.
        status, _, body = self.server.post(DETECT, json.dumps({"Image": image(gray_png(80, 80))}))
        self.assertEqual(status, 200, body)

    def test_header_claiming_too_many_pixels_is_refused_before_decoding(self):
        bomb = (b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
        status, _, body = self.server.post(DETECT, json.dumps({"Image": image(bomb)}))
        self.assertEqual((status, body["__type"]), (400, "ImageTooLargeException"), body)


class ImageMemoryFlagTest(unittest.TestCase):
    def test_image_memory_below_one_largest_image_refuses_to_start(self):
        with self.assertRaises(RuntimeError) as err:
            Server("--image-memory-mb", str(LEAST_MB - 1)).stop()
        self.assertIn("--image-memory-mb must be", str(err.exception))


if __name__ == "__main__":
    unittest.main()
