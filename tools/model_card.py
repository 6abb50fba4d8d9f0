#!/usr/bin/python3
"""Regenerates the measured-figures blocks of docs/MODEL_CARD.md.

Runs `argus eval verification` (every folder of DATA/verification: its
pairs.csv, and its identities.csv where there is one),
`argus eval detection` (DATA/detection/wider-dev), `argus eval portraits`
(the images of every folder of DATA/verification) and `argus eval
demographics` (DATA/demographics/utkface-dev) with --json, prints each
command, saves the JSON results under --results, and rewrites the text
between the markers

    <!-- model-card:NAME:begin -->  ...  <!-- model-card:NAME:end -->

(NAME = verification, detection, portraits, demographics) in docs/MODEL_CARD.md. Text
outside the markers is left alone.

usage: tools/model_card.py [--argus build/argus] [--data ../shared/data]
                           [--only verification,detection,portraits,demographics]
                           [--limit N] [--reuse] [--card docs/MODEL_CARD.md]
  --limit N   pass --limit N to the demographics eval (a quick look; the card
              says so)
  --reuse     render from the JSON saved by an earlier run instead of
              running the evals
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = ("verification", "detection", "portraits", "demographics")


def run(cmd, out_path):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)  # progress stays on stderr
    if p.returncode != 0:
        sys.exit("model_card: command failed (exit %d)" % p.returncode)
    result = json.loads(p.stdout.strip().splitlines()[-1])
    rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    run_ = {"command": cmd, "result": result, "revision": rev.strip() or "unknown",
            "date": datetime.date.today().isoformat()}
    with open(out_path, "w") as f:
        json.dump(run_, f, indent=1)
    return run_


def rel(cmd):
    """The command as a reader would type it from the repository root."""
    out = []
    for c in cmd:
        if os.path.isabs(c):
            r = os.path.relpath(c, ROOT)
            if not r.startswith(os.path.join("..", "..")):
                c = r
        out.append(c)
    return " ".join(shlex.quote(c) for c in out)


def provenance(runs):
    seen = sorted({"%s on %s" % (r.get("revision", "unknown"), r.get("date", "an unknown date"))
                   for r in runs})
    return ("Measured with argus %s (\"-dirty\": with uncommitted changes), the 2-core "
            "development machine." % ", ".join(seen))


def pct(v):
    return "n/a" if v is None else "%.2f%%" % (100 * v)


def sci(v):
    return "n/a" if v is None else ("0" if v == 0 else "%.2e" % v)


def render_verification(runs):
    lines = ["| data | pairs | 10-fold accuracy | EER | TAR@FAR 1e-2 / 1e-3 / 1e-4 | "
             "images without a face | FMR / FNMR at Similarity 80 | 90 | 95 | 99 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in runs:
        m = r["result"]
        rows = [(name, m)]
        # Pairs without a face in both images are errors end to end; the
        # descriptor's own rates are those of the pairs with both faces.
        f = m.get("face_pairs")
        if f and f["pairs"] != m["pairs"]:
            rows.append((name + ", pairs with both faces", dict(f, no_face=m["no_face"],
                                                                images=m["images"])))
        for label, v in rows:
            t = v["tar_at_far"]
            cells = ["%s / %s" % (sci(v["fmr_at_similarity"][k]), pct(v["fnmr_at_similarity"][k]))
                     for k in ("80", "90", "95", "99")]
            lines.append("| %s | %d | %.4f ± %.4f | %.4f | %.3f / %.3f / %.3f | %d of %d | %s |" % (
                label, v["pairs"], v["accuracy"], v["accuracy_std"], v["eer"], t["1e-2"],
                t["1e-3"], t["1e-4"], v["no_face"], v["images"], " | ".join(cells)))
    lines += ["", provenance([r for _, r in runs]), "", "Commands:", ""]
    lines += ["    " + rel(r["command"]) for _, r in runs]
    return "\n".join(lines)


def render_detection(runs):
    lines = ["| data | detector | AP easy | AP medium | AP hard | images | ms/image |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        m = r["result"]
        lines.append("| wider-dev | %s | %.4f | %.4f | %.4f | %d | %.1f |" % (
            m.get("detector", "?"), m["ap_easy"], m["ap_medium"], m["ap_hard"], m["images"],
            m["ms_per_image"]))
    lines += ["", provenance(runs), "", "Commands:", ""]
    lines += ["    " + rel(r["command"]) for r in runs]
    return "\n".join(lines)


def render_portraits(runs):
    names = list(runs[0][1]["result"]["variants"].keys()) if runs else []
    head = []
    for n, r in runs:
        m = r["result"]
        head += ["%s: %d portraits" % (n, m["portraits"]), "%s: %d group photos" % (
            n, m["group_photos"])]
    lines = ["| derived version | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for v in names:
        cells = []
        for _, r in runs:
            for kind in ("portraits", "group_photos"):
                c = r["result"]["variants"][v][kind]
                cell = "%d missed of %d" % (c["missed"], c["images"])
                if c["below_80_pixels"]:
                    cell += " (%d under 80 px)" % c["below_80_pixels"]
                cells.append(cell)
        lines.append("| %s | %s |" % (v, " | ".join(cells)))
    lines += ["", provenance([r for _, r in runs]), "", "Commands:", ""]
    lines += ["    " + rel(r["command"]) for _, r in runs]
    return "\n".join(lines)


def ratio(v):
    return "undefined" if v is None else "%.2f" % v


def render_demographics(r):
    m = r["result"]
    lines = []
    if m.get("limit"):
        lines += ["**A spread sample of %d of %d images (--limit), not the full set.**" % (
            m["images"], m["labelled_images"]), ""]
    lines += [
        "%d images: failure to detect %s, gender error %s, age MAE %s years (detected faces). "
        "Impostor pairs: %s." % (
            m["images"], pct(m["failure_to_detect"]), pct(m["gender_error"]),
            "n/a" if m["age_mae"] is None else "%.1f" % m["age_mae"], m["pairs_rule"]),
        "",
        "Worst / best FMR ratio over the groups with at least %d impostor pairs (undefined "
        "when no group has that many, or when the best of them has no false match):" %
        m["fmr_ratio_min_pairs"],
        "",
        "| groups | Similarity 80 | 90 | 95 | 99 |", "|---|---|---|---|---|"]
    for key, label in (("fmr_ratio_worst_best", "gender x race"),
                       ("fmr_ratio_worst_best_age", "age bands")):
        lines.append("| %s | %s |" % (label, " | ".join(ratio(m[key][t])
                                                      for t in ("80", "90", "95", "99"))))
    lines += ["", "| group | images | no face | impostor pairs | FMR@80 | FMR@90 | FMR@95 | "
              "FMR@99 | gender error | age MAE |", "|---|---|---|---|---|---|---|---|---|---|"]
    for g in m["groups"]:
        lines.append("| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s |" % (
            g["name"], g["images"], pct(g["failure_to_detect"]), g["impostor_pairs"],
            *(sci(g["fmr"][t]) for t in ("80", "90", "95", "99")), pct(g["gender_error"]),
            "n/a" if g["age_mae"] is None else "%.1f" % g["age_mae"]))
    lines += ["", provenance([r]), "",
              "Command (also writes report.json and report.html with the charts):", "",
              "    " + rel(r["command"])]
    return "\n".join(lines)


def replace_block(text, name, body):
    begin, end = "<!-- model-card:%s:begin -->" % name, "<!-- model-card:%s:end -->" % name
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        sys.exit("model_card: markers for %s not found in the card" % name)
    return text[:i + len(begin)] + "\n" + body.rstrip("\n") + "\n" + text[j:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--argus", default=os.path.join(ROOT, "build", "argus"))
    ap.add_argument("--data", default=os.environ.get("ARGUS_DATA",
                                                     os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--only", default=",".join(NAMES))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--results", default=os.path.join(ROOT, "build", "model-card"))
    ap.add_argument("--card", default=os.path.join(ROOT, "docs", "MODEL_CARD.md"))
    a = ap.parse_args()
    only = [n for n in a.only.split(",") if n]
    for n in only:
        if n not in NAMES:
            sys.exit("model_card: unknown eval %r (expected %s)" % (n, ", ".join(NAMES)))
    data = os.path.abspath(a.data)
    os.makedirs(a.results, exist_ok=True)

    def get(key, cmd):
        path = os.path.join(a.results, key + ".json")
        if a.reuse:
            with open(path) as f:
                return json.load(f)
        return run(cmd, path)

    # The evals run first and the card is read just before it is written, so
    # edits made to it during a long run are kept.
    blocks = {}
    if "verification" in only:
        vdir = os.path.join(data, "verification")
        runs = []
        for name in sorted(os.listdir(vdir)):
            d = os.path.join(vdir, name)
            runs.append((name, get("verification-" + name, [
                a.argus, "eval", "verification", "--pairs", os.path.join(d, "pairs.csv"),
                "--images", os.path.join(d, "images"), "--json"])))
            # Where identities are listed, also every same-identity pair and as
            # many different-identity ones (the pairs file may draw its
            # impostors from few images).
            if os.path.exists(os.path.join(d, "identities.csv")):
                runs.append((name + ", identity pairs", get("verification-" + name + "-identities", [
                    a.argus, "eval", "verification", "--identities",
                    os.path.join(d, "identities.csv"), "--images", os.path.join(d, "images"),
                    "--json"])))
        blocks["verification"] = render_verification(runs)
    if "detection" in only:
        d = os.path.join(data, "detection", "wider-dev")
        runs = []
        # The default detector first (no --face-detector), then the others
        # it was chosen against.
        for det in ("", "ssd-tiled", "ssd-wide", "ssd", "blaze", "haar"):
            cmd = [a.argus, "eval", "detection", "--annotations",
                   os.path.join(d, "annotations.json"), "--images", os.path.join(d, "images"),
                   "--json"]
            if det:
                cmd += ["--face-detector", det]
            runs.append(get("detection" + ("-" + det if det else ""), cmd))
        blocks["detection"] = render_detection(runs)
    if "portraits" in only:
        vdir = os.path.join(data, "verification")
        runs = []
        for name in sorted(os.listdir(vdir)):
            runs.append((name, get("portraits-" + name, [
                a.argus, "eval", "portraits", "--images", os.path.join(vdir, name, "images"),
                "--json"])))
        blocks["portraits"] = render_portraits(runs)
    if "demographics" in only:
        d = os.path.join(data, "demographics", "utkface-dev")
        cmd = [a.argus, "eval", "demographics", "--labels", os.path.join(d, "labels.csv"),
               "--images", os.path.join(d, "images"), "--out",
               os.path.join(a.results, "demographics"), "--json"]
        if a.limit:
            cmd += ["--limit", str(a.limit)]
        blocks["demographics"] = render_demographics(get("demographics", cmd))
    with open(a.card) as f:
        card = f.read()
    for name, text in blocks.items():
        card = replace_block(card, name, text)
    with open(a.card, "w") as f:
        f.write(card)
    print("model_card: rewrote %s (%s)" % (os.path.relpath(a.card, ROOT), ", ".join(only)))


if __name__ == "__main__":
    main()
