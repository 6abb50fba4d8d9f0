"""The HTTP front end against hostile clients: bodies and headers in every
form are capped before they are read, slow and idle connections cannot take
the server offline, and transport errors answer the right HTTP status in the
Rekognition error shape. Real server, loopback, raw sockets."""
import base64
import gzip
import json
import os
import socket
import threading
import time
import unittest
import zlib

from harness import Server

DETECT = "RekognitionService.DetectFaces"
MB = 1024 * 1024
# How much the server's resident memory may grow while a refused probe runs.
MEMORY_SLACK = 64 * MB


def memory(pid):
    """(VmRSS, VmHWM) of a process, in bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out["VmRSS"], out["VmHWM"]


def connect(server, timeout=10):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, timeout=10):
    """Reads one HTTP response (Content-Length framed) from `sock`; returns
    (status, headers with lower-case names, body bytes), or None when the
    server closed the connection without answering."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:length]
    except (ConnectionResetError, BrokenPipeError):
        return None


def raw_exchange(server, data, timeout=10):
    """Sends `data` on a new connection and reads the answer; the server's
    answer may come while we are still sending."""
    with connect(server, timeout) as s:
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass
        return read_response(s, timeout)


def closed_by_peer(sock, timeout):
    """True when the server closes `sock` within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def stream_then_answer(server, head, body_chunks):
    """Sends `head`, then the body chunks from a second thread while this one
    waits for the answer, as a client that keeps sending past a refusal would.
    Returns (response or None, bytes the client managed to send)."""
    sock = connect(server, timeout=30)
    sent = [0]
    stop = threading.Event()

    def send():
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                if stop.is_set():
                    return
                sock.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        response = read_response(sock, timeout=30)
    finally:
        stop.set()
        sender.join(timeout=30)
        sock.close()
    return response, sent[0]


class HttpLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--header-timeout", "2", "--body-timeout", "3",
                            "--max-connections-per-address", "24")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def assertRekognitionError(self, response, status, type_=None):
        self.assertIsNotNone(response, "the server closed the connection without an answer")
        got_status, headers, body = response
        self.assertEqual(got_status, status, body)
        self.assertIn("x-amzn-requestid", headers)
        error = json.loads(body)
        self.assertIn("__type", error)
        self.assertTrue(error["message"], error)
        if type_:
            self.assertEqual(error["__type"], type_)
        self.assertNotEqual(error["__type"], "UnknownOperationException", error)
        self.assertNotIn("Not found", error["message"])
        return error

    def assertMemoryBounded(self, before):
        rss, hwm = memory(self.server.proc.pid)
        self.assertLess(rss - before[0], MEMORY_SLACK, "VmRSS grew by %d MB" % ((rss - before[0]) // MB))
        self.assertLess(hwm - before[1], MEMORY_SLACK, "VmHWM grew by %d MB" % ((hwm - before[1]) // MB))

    def head(self, extra):
        return ("POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Amz-Target: %s\r\n"
                "Content-Type: application/x-amz-json-1.1\r\n%s\r\n"
                % (self.server.port, DETECT, extra)).encode()

    def test_chunked_body_over_the_limit_is_refused_without_memory_growth(self):
        before = memory(self.server.proc.pid)
        chunk = b"%x\r\n%s\r\n" % (MB, b" " * MB)
        response, sent = stream_then_answer(
            self.server, self.head("Transfer-Encoding: chunked\r\n"), (chunk for _ in range(160)))
        self.assertRekognitionError(response, 413, "ImageTooLargeException")
        self.assertMemoryBounded(before)

    def test_body_without_length_is_refused(self):
        before = memory(self.server.proc.pid)
        response, _ = stream_then_answer(
            self.server, self.head("Connection: close\r\n"), (b" " * MB for _ in range(160)))
        self.assertRekognitionError(response, 411)
        self.assertMemoryBounded(before)

    def test_declared_body_over_the_limit_is_refused_before_it_is_read(self):
        response = raw_exchange(self.server, self.head("Content-Length: %d\r\n" % (512 * MB)))
        self.assertRekognitionError(response, 413, "ImageTooLargeException")

    def test_gzip_body_is_refused_not_inflated(self):
        before = memory(self.server.proc.pid)
        bomb = gzip.compress(b" " * (256 * MB), compresslevel=9)
        response = raw_exchange(
            self.server,
            self.head("Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(bomb)) + bomb)
        error = self.assertRekognitionError(response, 415)
        self.assertIn("Content-Encoding", error["message"])
        self.assertMemoryBounded(before)

    def test_any_content_encoding_is_refused(self):
        for coding in ("deflate", "br", "compress", "gzip, identity"):
            body = zlib.compress(b"{}")
            response = raw_exchange(
                self.server,
                self.head("Content-Encoding: %s\r\nContent-Length: %d\r\n" % (coding, len(body))) + body)
            self.assertRekognitionError(response, 415)

    def test_header_count_flood_is_refused_with_431(self):
        before = memory(self.server.proc.pid)
        flood = "".join("X-Flood-%d: a\r\n" % i for i in range(5000))
        response = raw_exchange(self.server, self.head(flood + "Content-Length: 2\r\n") + b"{}")
        self.assertRekognitionError(response, 431)
        self.assertMemoryBounded(before)

    def test_header_bytes_flood_is_refused_with_431(self):
        before = memory(self.server.proc.pid)
        for flood in ("X-Long: " + "a" * (100 * 1024) + "\r\n",
                      "".join("X-Big-%d: %s\r\n" % (i, "b" * 4000) for i in range(50))):
            response = raw_exchange(self.server, self.head(flood + "Content-Length: 2\r\n") + b"{}")
            self.assertRekognitionError(response, 431)
        self.assertMemoryBounded(before)

    def test_endless_header_is_refused_without_memory_growth(self):
        before = memory(self.server.proc.pid)
        response, _ = stream_then_answer(
            self.server, self.head("")[:-2],
            (("X-%d: %s\r\n" % (i, "c" * 8000)).encode() for i in range(20000)))
        self.assertRekognitionError(response, 431)
        self.assertMemoryBounded(before)

    def test_100kb_uri_is_414(self):
        target = "/" + "a" * (100 * 1024)
        response = raw_exchange(
            self.server, ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target).encode())
        self.assertRekognitionError(response, 414)

    def test_malformed_request_is_400(self):
        for garbage in (b"NOT HTTP AT ALL\r\n\r\n", b"POST / HTTP/1.1\r\nBad Header\r\n\r\n",
                        b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"):
            response = raw_exchange(self.server, garbage)
            self.assertRekognitionError(response, 400)

    def test_chunked_signed_request_within_the_limit_is_served(self):
        # SigV4 signs the decoded body, so a chunked upload of a small body works.
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        from test_server import gray_png

        body = json.dumps({"Image": {"Bytes": base64.b64encode(gray_png(80, 80)).decode()}}).encode()
        req = AWSRequest(method="POST", url=self.server.url + "/", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": DETECT})
        SigV4Auth(Credentials(self.server.access_key, self.server.secret_key), "rekognition",
                  "us-east-1").add_auth(req)
        head = "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % self.server.port + "".join(
            "%s: %s\r\n" % (k, v) for k, v in req.headers.items() if k.lower() not in ("content-length", "host"))
        half = len(body) // 2
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:])) + b"0\r\n\r\n"
        response = raw_exchange(self.server, (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunked)
        self.assertIsNotNone(response)
        self.assertEqual(response[0], 200, response[2])
        self.assertEqual(json.loads(response[2])["FaceDetails"], [])

    def test_slowloris_does_not_block_signed_requests_and_is_closed_at_the_deadline(self):
        socks = []
        try:
            for _ in range(20):  # within the per-address cap: the header deadline must close them
                s = connect(self.server)
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            stop = threading.Event()

            def trickle():
                while not stop.is_set():
                    for s in socks:
                        try:
                            s.send(b"X")
                        except OSError:
                            pass
                    stop.wait(0.3)

            trickler = threading.Thread(target=trickle, daemon=True)
            trickler.start()
            try:
                status, _, body = self.server.post(DETECT, json.dumps({"Image": {"Bytes": "AAAA"}}))
                self.assertEqual(status, 400, body)  # answered, by validation
                closed = [closed_by_peer(s, 10) for s in socks]
            finally:
                stop.set()
                trickler.join()
            self.assertTrue(all(closed), "%d of %d slow connections still open" % (
                closed.count(False), len(closed)))
        finally:
            for s in socks:
                s.close()

    def test_slow_body_is_closed_at_the_deadline(self):
        with connect(self.server) as s:
            s.sendall(self.head("Content-Length: 1000\r\n") + b"{")
            self.assertTrue(closed_by_peer(s, 10))

    def test_many_idle_connections_do_not_delay_healthz(self):
        socks = []
        try:
            for _ in range(500):
                socks.append(connect(self.server))
            with connect(self.server) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                response = read_response(s, timeout=5)
            self.assertIsNotNone(response)
            self.assertEqual(response[0], 200)
        finally:
            for s in socks:
                s.close()

    def test_connections_beyond_the_per_address_cap_get_503(self):
        socks = []
        try:
            for _ in range(24):
                s = connect(self.server)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_response(s)[0], 200)  # held open by keep-alive
                socks.append(s)
            with connect(self.server) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                error = self.assertRekognitionError(read_response(s), 503, "ServiceUnavailableException")
                self.assertIn("connections", error["message"])
            with connect(self.server) as s:  # the health check is still answered
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_response(s)[0], 200)
        finally:
            for s in socks:
                s.close()
        # Once the server has seen the closes, a new connection is served again.
        for _ in range(50):
            with connect(self.server) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                status = read_response(s)[0]
            if status == 200:
                break
            time.sleep(0.1)
        self.assertEqual(status, 200)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        with connect(self.server) as s:
            for _ in range(20):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_response(s)[0], 200)


if __name__ == "__main__":
    unittest.main()
