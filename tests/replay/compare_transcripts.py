#!/usr/bin/env python3
"""Compares two API transcripts written by the test harness (ARGUS_TRANSCRIPT=FILE)
after normalising what differs between runs by design: UUIDs (FaceId, ImageId,
UserId when generated, request ids) become their order of first appearance, and
CreationTimestamp values become a placeholder.

  ARGUS_TRANSCRIPT=/tmp/before.jsonl ARGUS_BIN=OLD python3 -m unittest test_collections ...
  ARGUS_TRANSCRIPT=/tmp/after.jsonl  ARGUS_BIN=NEW python3 -m unittest test_collections ...
  tests/replay/compare_transcripts.py /tmp/before.jsonl /tmp/after.jsonl

Exit status 0 when every answer is byte-identical after normalisation; otherwise
prints the first differences."""
import json
import re
import sys

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r'"CreationTimestamp":\s*[0-9.]+')


def normalise(lines):
    seen = {}

    def uuid(m):
        return "<uuid%d>" % seen.setdefault(m.group(0), len(seen))

    out = []
    for line in lines:
        rec = json.loads(line)
        body = TIMESTAMP.sub('"CreationTimestamp":<t>', UUID.sub(uuid, rec["body"]))
        out.append((rec["target"], rec["request_sha256"], rec["status"], body))
    return out


def main(a, b):
    with open(a) as fa, open(b) as fb:
        ta, tb = normalise(fa), normalise(fb)
    diffs = 0
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x != y:
            diffs += 1
            if diffs <= 10:
                print("#%d %s\n  before: %s %s\n  after:  %s %s" % (i, x[0], x[2], x[3][:400],
                                                                    y[2], y[3][:400]))
    if len(ta) != len(tb):
        print("request counts differ: %d before, %d after" % (len(ta), len(tb)))
        diffs += 1
    print("%d requests, %d differences" % (len(ta), diffs))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
