#!/usr/bin/python3
"""Check converted ONNX models in OpenCV DNN against the stored reference outputs.

For every tests/golden/<model>.json whose model file (models/*.json `file`) exists in
--model-dir, build the synthetic input of models/README.md from the manifest's input
(shape, layout, mean, scale), run cv2.dnn on it, and compare every stored value:
an element matches when |onnx - ref| <= atol + rtol * |ref|.  Prints one line per model
and exits non-zero when any model mismatches (or fails to load / run).

  /usr/bin/python3 tools/golden/check_golden.py --model-dir ~/.cache/argus/models

Uses Debian's python3-opencv (OpenCV 4.6, the DNN the C++ code uses) and python3-numpy.
"""

import argparse
import glob
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_manifest(models_dir):
    """{model name: manifest entry} over every part models/*.json."""
    entries = {}
    for path in sorted(glob.glob(os.path.join(models_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            part = json.load(f)
        for m in part.get("models", []):
            entries[m["name"]] = m
    return entries


def synthetic_pixels(channels, height, width, seed):
    """pixel[c, y, x] (0..255) of models/README.md, uint32 arithmetic."""
    c = np.arange(channels, dtype=np.uint32).reshape(-1, 1, 1)
    y = np.arange(height, dtype=np.uint32).reshape(1, -1, 1)
    x = np.arange(width, dtype=np.uint32).reshape(1, 1, -1)
    with np.errstate(over="ignore"):
        h = (c * np.uint32(73856093)) ^ (y * np.uint32(19349663)) ^ (x * np.uint32(83492791))
        h = h ^ (np.uint32(seed) * np.uint32(2654435761))
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x45D9F3B)
        h = h ^ (h >> np.uint32(16))
    return (h & np.uint32(255)).astype(np.float32)


def synthetic_input(spec, seed):
    """The model input tensor: (pixel[c] - mean[c]) * scale[c] in the manifest's shape/layout."""
    shape = list(spec["shape"])
    layout = spec.get("layout", "NCHW")
    if len(shape) != 4 or shape[0] != 1 or layout not in ("NCHW", "NHWC"):
        raise ValueError(f"unsupported input shape/layout {shape} {layout}")
    ch, hh, ww = (shape[1], shape[2], shape[3]) if layout == "NCHW" else (shape[3], shape[1], shape[2])
    mean = np.broadcast_to(np.asarray(spec.get("mean", 0.0), np.float64), (ch,))
    scale = np.broadcast_to(np.asarray(spec.get("scale", 1.0), np.float64), (ch,))
    pixels = synthetic_pixels(ch, hh, ww, seed).astype(np.float64)
    t = ((pixels - mean.reshape(-1, 1, 1)) * scale.reshape(-1, 1, 1)).astype(np.float32)
    t = t[np.newaxis]
    if layout == "NHWC":
        t = np.ascontiguousarray(t.transpose(0, 2, 3, 1))
    return t


def check_model(cv2, path, entry, golden):
    net = cv2.dnn.readNetFromONNX(path)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    seed = golden.get("input", {}).get("seed", 1)
    net.setInput(synthetic_input(entry["input"], seed))
    names = [o["name"] for o in golden["outputs"]]
    results = net.forward(names)
    atol, rtol = float(golden["atol"]), float(golden["rtol"])
    worst_abs, worst_rel, bad, lines = 0.0, 0.0, 0, []
    for out, got in zip(golden["outputs"], results):
        got = np.asarray(got, np.float64)
        want_count = int(np.prod(out["shape"]))
        if got.size != want_count:
            bad += 1
            lines.append(f"  {out['name']}: got {list(got.shape)} ({got.size} values), "
                         f"expected shape {out['shape']}")
            continue
        if "reference" in out:
            # The stored values are of a function of the output (paddleocr_rec
            # ends in logits where the original model ends in their softmax).
            if out["reference"] != "softmax over the last axis":
                bad += 1
                lines.append(f"  {out['name']}: unknown reference {out['reference']!r}")
                continue
            rows = got.reshape(-1, out["shape"][-1])
            e = np.exp(rows - rows.max(axis=1, keepdims=True))
            got = e / e.sum(axis=1, keepdims=True)
        flat = got.reshape(-1)
        idx = np.asarray(out["indices"], np.int64)
        ref = np.asarray(out["values"], np.float64)
        val = flat[idx]
        err = np.abs(val - ref)
        # relative error where it means something (|ref| above atol); atol covers the rest
        big = np.abs(ref) > atol
        rel = err[big] / np.abs(ref[big])
        worst_abs = max(worst_abs, float(err.max(initial=0.0)))
        worst_rel = max(worst_rel, float(rel.max(initial=0.0)))
        fails = np.nonzero(~(err <= atol + rtol * np.abs(ref)))[0]
        if fails.size:
            bad += int(fails.size)
            k = fails[np.argmax(err[fails])]
            lines.append(f"  {out['name']}: {fails.size}/{idx.size} values off, worst at flat index "
                         f"{idx[k]}: {val[k]:.7g} vs {ref[k]:.7g}")
    return bad == 0, worst_abs, worst_rel, lines


def main(argv=None):
    default_dir = os.environ.get("ARGUS_MODEL_DIR") or os.path.expanduser("~/.cache/argus/models")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=default_dir, help="folder with the converted .onnx files")
    ap.add_argument("--golden-dir", default=os.path.join(ROOT, "tests", "golden"))
    ap.add_argument("--manifest-dir", default=os.path.join(ROOT, "models"),
                    help="folder with the manifest parts (*.json)")
    ap.add_argument("models", nargs="*", help="only these model names (default: all)")
    args = ap.parse_args(argv)

    import cv2  # Debian python3-opencv

    cv2.setNumThreads(2)
    entries = load_manifest(args.manifest_dir)
    failed = checked = 0
    for gpath in sorted(glob.glob(os.path.join(args.golden_dir, "*.json"))):
        with open(gpath, encoding="utf-8") as f:
            golden = json.load(f)
        name = golden.get("model") or os.path.splitext(os.path.basename(gpath))[0]
        if args.models and name not in args.models:
            continue
        entry = entries.get(name)
        if entry is None:
            print(f"FAIL {name}: no manifest entry in {args.manifest_dir}/*.json")
            failed += 1
            continue
        path = os.path.join(args.model_dir, entry["file"])
        if not os.path.exists(path):
            print(f"skip {name}: {path} not found")
            continue
        checked += 1
        try:
            ok, max_abs, max_rel, lines = check_model(cv2, path, entry, golden)
        except Exception as e:  # cv2.error and friends: report, keep going
            print(f"FAIL {name}: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else e}")
            failed += 1
            continue
        status = "ok  " if ok else "FAIL"
        print(f"{status} {name}: max abs err {max_abs:.3g}, max rel err {max_rel:.3g} "
              f"(atol {golden['atol']:g}, rtol {golden['rtol']:g})")
        for line in lines:
            print(line)
        failed += 0 if ok else 1
    print(f"{checked} checked, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
