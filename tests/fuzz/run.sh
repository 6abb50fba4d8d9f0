#!/usr/bin/env bash
# Runs one libFuzzer target: run.sh FUZZ_BINARY_DIR TARGET SECONDS [extra libFuzzer flags]
# TARGET: base64 | image | sigv4 | request | http. New inputs go to
# FUZZ_BINARY_DIR/corpus/TARGET; the seeds in tests/fuzz/corpus/TARGET are read.
# A crash, leak, timeout or out-of-memory exits non-zero and leaves the
# reproducer (crash-*, leak-*, timeout-*) in FUZZ_BINARY_DIR/artifacts/.
set -euo pipefail
dir=$1 target=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/corpus/$target" "$dir/artifacts"
exec "$dir/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$@" \
  "$dir/corpus/$target" "$here/corpus/$target"
