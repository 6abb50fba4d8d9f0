#!/usr/bin/env python3
"""Store benchmark: IndexFaces throughput and SearchFacesByImage latency with
the SQLite store (one node) and the PostgreSQL store (one node, and two nodes
behind Debian's haproxy on loopback), side by side in one run; plus the delay
until a face indexed on one node is searchable on the other (p50/p99).

Starts everything itself: a private PostgreSQL cluster (tests/store/
pg_cluster.py), the argus nodes (--no-auth, each with its own data dir) and
haproxy (round robin). Needs the Debian packages postgresql and haproxy.

  bench/store_bench.py [--requests N] [--clients C] [--searches N]
                       [--propagation N] [--audit N] [--workers W] [--threads T]
                       [--json]
"""
import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "store"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from pg_cluster import PgCluster  # noqa: E402
from harness import ARGUS_BIN, FACEAPI_DEMO, Server  # noqa: E402

SAMPLES = [os.path.join(FACEAPI_DEMO, "sample%d.jpg" % i) for i in (1, 2, 3)]


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


IMAGES = None


def post(url, op, body):
    req = urllib.request.Request(url + "/", data=json.dumps(body).encode(), method="POST",
                                 headers={"X-Amz-Target": "RekognitionService." + op,
                                          "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Haproxy:
    def __init__(self, backends):
        self.dir = tempfile.mkdtemp(prefix="argus-haproxy-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 5s\n"
                    "  timeout client 300s\n  timeout server 300s\n"
                    "frontend argus\n  bind 127.0.0.1:%d\n  default_backend nodes\n"
                    "backend nodes\n  balance roundrobin\n" % self.port)
            for i, port in enumerate(backends):
                f.write("  server n%d 127.0.0.1:%d\n" % (i, port))
        exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.proc = subprocess.Popen([exe, "-f", cfg, "-db"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.url = "http://127.0.0.1:%d" % self.port
        for _ in range(100):
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("haproxy did not start")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def node(args, store=None):
    extra = ["--no-auth", "--anonymous-org-type", "research", "--anonymous-purpose", "testing",
             "--workers", str(args.workers), "--threads", str(args.threads), "--log-level",
             "warn"]
    if store:
        extra += ["--store", store]
    return Server(*extra)


def run_load(url, collection, args):
    """IndexFaces throughput, then SearchFacesByImage latency, on `url`."""
    post(url, "CreateCollection", {"CollectionId": collection})
    lock, faces, index_lat = threading.Lock(), [0], []
    todo = list(range(args.requests))

    def indexer():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            t = time.perf_counter()
            out = post(url, "IndexFaces", {"CollectionId": collection,
                                           "Image": {"Bytes": IMAGES[i % 3]},
                                           "ExternalImageId": "r%d" % i})
            with lock:
                index_lat.append(time.perf_counter() - t)
                faces[0] += len(out["FaceRecords"])

    t0 = time.perf_counter()
    ts = [threading.Thread(target=indexer) for _ in range(args.clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    wall = time.perf_counter() - t0
    search_lat = []
    todo = list(range(args.searches))

    def searcher():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            t = time.perf_counter()
            post(url, "SearchFacesByImage", {"CollectionId": collection,
                                             "Image": {"Bytes": IMAGES[i % 3]}, "MaxFaces": 10})
            with lock:
                search_lat.append(time.perf_counter() - t)

    ts = [threading.Thread(target=searcher) for _ in range(args.clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return {"index_requests_per_s": args.requests / wall, "index_faces_per_s": faces[0] / wall,
            "index_p50_ms": 1000 * pct(index_lat, 50),
            "search_p50_ms": 1000 * pct(search_lat, 50),
            "search_p99_ms": 1000 * pct(search_lat, 99)}


def propagation(a, b, n):
    """Seconds from IndexFaces acknowledged on A to the face found by B's index."""
    post(a.url, "CreateCollection", {"CollectionId": "propagation"})
    out = post(a.url, "IndexFaces", {"CollectionId": "propagation",
                                     "Image": {"Bytes": IMAGES[0]}, "MaxFaces": 1})
    probe = out["FaceRecords"][0]["Face"]["FaceId"]
    delays = []
    for i in range(n):
        out = post(a.url, "IndexFaces", {"CollectionId": "propagation",
                                         "Image": {"Bytes": IMAGES[1 + i % 2]}, "MaxFaces": 1,
                                         "ExternalImageId": "p%d" % i})
        acked = time.perf_counter()
        new = out["FaceRecords"][0]["Face"]["FaceId"]
        while True:
            got = post(b.url, "SearchFaces", {"CollectionId": "propagation", "FaceId": probe,
                                              "FaceMatchThreshold": 0, "MaxFaces": 4096})
            if any(m["Face"]["FaceId"] == new for m in got["FaceMatches"]):
                break
            if time.perf_counter() - acked > 10:
                raise RuntimeError("face %s never reached node B" % new)
        delays.append(time.perf_counter() - acked)
    return {"propagation_p50_ms": 1000 * pct(delays, 50),
            "propagation_p99_ms": 1000 * pct(delays, 99),
            "propagation_max_ms": 1000 * max(delays), "samples": n}


def main():
    global IMAGES
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=24)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--searches", type=int, default=40)
    p.add_argument("--propagation", type=int, default=30)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--audit", type=int, default=400)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    IMAGES = [b64(s) for s in SAMPLES]
    results = {}
    s = node(args)
    try:
        results["sqlite, 1 node"] = run_load(s.url, "bench", args)
    finally:
        s.stop()
    with PgCluster(fsync=True) as pg:  # durable commits, as SQLite's
        a = node(args, pg.url)
        b = node(args, pg.url)
        try:
            results["postgresql, 1 node"] = run_load(a.url, "bench1", args)
            lb = Haproxy([a.port, b.port])
            try:
                results["postgresql, 2 nodes + haproxy"] = run_load(lb.url, "bench2", args)
            finally:
                lb.close()
            results["propagation A -> B"] = propagation(a, b, args.propagation)
        finally:
            a.stop()
            b.stop()
        # The audit chain's serialisation: appends in process (SQLite, and
        # PostgreSQL from one and from two stores), JSON lines.
        out = subprocess.run([ARGUS_BIN, "bench", "store", "--audit-url", pg.url, "--audit",
                              str(args.audit)], capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError("audit appends: " + out.stderr)
        results["audit appends"] = [json.loads(l) for l in out.stdout.splitlines() if l]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("store benchmark: %d IndexFaces, %d SearchFacesByImage, %d clients, "
          "--workers %d --threads %d per node, %d CPUs" %
          (args.requests, args.searches, args.clients, args.workers, args.threads,
           os.cpu_count()))
    print("%-32s %10s %10s %10s %10s %10s" % ("", "index r/s", "faces/s", "index p50",
                                              "search p50", "search p99"))
    for name, r in results.items():
        if "index_faces_per_s" in r:
            print("%-32s %10.2f %10.2f %8.0fms %8.0fms %8.0fms" %
                  (name, r["index_requests_per_s"], r["index_faces_per_s"], r["index_p50_ms"],
                   r["search_p50_ms"], r["search_p99_ms"]))
    r = results["propagation A -> B"]
    print("propagation A -> B (IndexFaces acknowledged on A until B's index finds it): "
          "p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d faces" %
          (r["propagation_p50_ms"], r["propagation_p99_ms"], r["propagation_max_ms"],
           r["samples"]))
    print("audit appends (one chain):")
    for r in results["audit appends"]:
        print("  %-10s %d store(s) x %d thread(s): %7.1f appends/s, p50 %.2f ms, p99 %.2f ms" %
              (r["engine"], r["nodes"], r["threads_per_node"], r["appends_per_s"], r["p50_ms"],
               r["p99_ms"]))


if __name__ == "__main__":
    main()
