"""The access log: one structured line per request with its fields, never a
secret or image bytes; --log-level; regions (--region)."""
import base64
import json
import os
import re
import unittest

from harness import FACEAPI_DEMO, Server

SAMPLE = os.path.join(FACEAPI_DEMO, "sample1.jpg")


def detect_body():
    with open(SAMPLE, "rb") as fh:
        return json.dumps({"Image": {"Bytes": base64.b64encode(fh.read()).decode()}})


def request_lines(text, fmt):
    if fmt == "json":
        return [json.loads(l) for l in text.splitlines()
                if l.startswith("{") and '"msg":"request"' in l]
    out = []
    for l in text.splitlines():
        if " msg=request " not in l:
            continue
        out.append(dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|\S*)', l)))
    return out


class AccessLog(unittest.TestCase):
    def run_requests(self, server):
        body = detect_body()
        ok = server.post("RekognitionService.DetectFaces", body)
        bad_op = server.post("RekognitionService.NoSuchThing", "{}")
        unsigned = server.post("RekognitionService.DetectFaces", "{}", sign=False)
        self.assertEqual(ok[0], 200)
        self.assertEqual(bad_op[0], 400)
        self.assertNotEqual(unsigned[0], 200)
        return body, [ok[1]["x-amzn-RequestId"], bad_op[1]["x-amzn-RequestId"],
                      unsigned[1]["x-amzn-RequestId"]]

    def check(self, fmt):
        server = Server("--log-format", fmt)
        try:
            body, ids = self.run_requests(server)
        finally:
            server.stop()
        logs = server.logs()
        self.assertNotIn(server.secret_key, logs)
        self.assertNotIn(body[40:200], logs)  # no image bytes
        lines = request_lines(logs, fmt)
        self.assertEqual([l["request_id"] for l in lines], ids, logs)
        ok, bad_op, unsigned = lines
        self.assertEqual(ok["operation"], "DetectFaces")
        self.assertEqual(ok["access_key_id"], server.access_key)
        self.assertEqual(ok["principal"], "integration")
        self.assertEqual(ok["region"], "us-east-1")
        self.assertEqual(str(ok["status"]), "200")
        self.assertEqual(ok["error"], "")
        self.assertEqual(int(ok["bytes_in"]), len(body))
        self.assertGreater(int(ok["bytes_out"]), 100)
        self.assertGreater(float(ok["latency_ms"]), 0)
        self.assertEqual(str(bad_op["status"]), "400")
        self.assertEqual(bad_op["error"], "UnknownOperationException")
        self.assertEqual(unsigned["principal"], "anonymous")
        self.assertEqual(unsigned["access_key_id"], "")
        self.assertTrue(unsigned["error"], unsigned)
        return lines

    def test_json_lines(self):
        lines = self.check("json")
        self.assertIsInstance(lines[0]["status"], int)

    def test_logfmt_lines(self):
        self.check("logfmt")

    def test_log_level_warn_hides_requests(self):
        server = Server("--log-level", "warn")
        try:
            self.run_requests(server)
        finally:
            server.stop()
        self.assertNotIn("request_id=", server.logs())


class OtherRequests(unittest.TestCase):
    def get(self, server, path):
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(server.url + path, timeout=10) as r:
                return r.status, r.headers["x-amzn-RequestId"]
        except urllib.error.HTTPError as e:
            return e.code, e.headers["x-amzn-RequestId"]

    def test_unknown_paths_and_transport_refusals_are_logged_probes_at_debug(self):
        import socket
        server = Server("--log-format", "json")
        debug = Server("--log-format", "json", "--log-level", "debug")
        try:
            _, health_id = self.get(server, "/healthz")
            status, missing_id = self.get(server, "/nope")
            self.assertEqual(status, 404)
            with socket.create_connection(("127.0.0.1", server.port)) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                          b"Content-Length: 2\r\n\r\n{}")
                answer = s.recv(4096).decode(errors="replace")
            self.assertIn(" 415 ", answer.splitlines()[0])
            refused_id = re.search(r"(?i)x-amzn-RequestId: (\S+)", answer).group(1)
            _, debug_health_id = self.get(debug, "/healthz")
        finally:
            server.stop()
            debug.stop()
        lines = {l["request_id"]: l for l in request_lines(server.logs(), "json")}
        self.assertNotIn(health_id, lines)  # probes only at debug level
        self.assertEqual(lines[missing_id]["status"], 404)
        self.assertEqual(lines[missing_id]["operation"], "GET /nope")
        self.assertEqual(lines[missing_id]["error"], "UnknownOperationException")
        self.assertEqual(lines[refused_id]["status"], 415)
        self.assertTrue(lines[refused_id]["error"])
        debug_lines = {l["request_id"]: l for l in request_lines(debug.logs(), "json")}
        self.assertEqual(debug_lines[debug_health_id]["level"], "debug")
        self.assertEqual(debug_lines[debug_health_id]["operation"], "GET /healthz")


class Regions(unittest.TestCase):
    def test_any_region_by_default(self):
        server = Server()
        try:
            status, _, _ = server.post("RekognitionService.ListCollections", "{}",
                                       region="eu-west-3")
        finally:
            server.stop()
        self.assertEqual(status, 200)
        self.assertIn("region=eu-west-3", server.logs())

    def test_configured_regions_refuse_others(self):
        server = Server("--region", "us-east-1,eu-west-1")
        try:
            ok = server.post("RekognitionService.ListCollections", "{}", region="eu-west-1")
            other = server.post("RekognitionService.ListCollections", "{}", region="eu-west-3")
        finally:
            server.stop()
        self.assertEqual(ok[0], 200)
        self.assertEqual(other[0], 403)
        self.assertEqual(other[2]["__type"], "InvalidSignatureException")
        self.assertIn("eu-west-3", other[2]["message"])


if __name__ == "__main__":
    unittest.main()
