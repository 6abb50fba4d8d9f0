#!/usr/bin/env python3
"""Compares two API transcripts written by the test harness (ARGUS_TRANSCRIPT=FILE)
after normalising what differs between runs by design: UUIDs (FaceId, ImageId,
request ids) become a placeholder, CreationTimestamp values too, and the items
of every list are compared as a multiset (ListFaces, for one, is ordered by the
random FaceId).

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


def canonical(value):
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def normalise(lines):
    out = []
    for line in lines:
        rec = json.loads(line)
        body = TIMESTAMP.sub('"CreationTimestamp":0', UUID.sub("<uuid>", rec["body"]))
        try:
            body = json.dumps(canonical(json.loads(body)), sort_keys=True)
        except ValueError:
            pass
        out.append((rec["target"], rec["status"], body))
    return out


def main(a, b):
    with open(a) as fa, open(b) as fb:
        ta, tb = normalise(fa), normalise(fb)
    diffs = 0
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x != y:
            diffs += 1
            if diffs <= 10:
                print("#%d %s\n  before: %s %s\n  after:  %s %s" % (i, x[0], x[1], x[2][:400],
                                                                    y[1], y[2][:400]))
    if len(ta) != len(tb):
        print("request counts differ: %d before, %d after" % (len(ta), len(tb)))
        diffs += 1
    print("%d requests, %d differences" % (len(ta), diffs))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
