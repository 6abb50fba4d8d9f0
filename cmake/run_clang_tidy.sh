#!/usr/bin/env bash
# Runs clang-tidy 14 (the repository's .clang-tidy) on argus's own sources in
# BUILD_DIR/compile_commands.json; exits non-zero on any finding.
# Usage: run_clang_tidy.sh BUILD_DIR [FILE_REGEX]
set -euo pipefail
build=${1:?usage: run_clang_tidy.sh BUILD_DIR [FILE_REGEX]}
src=$(cd "$(dirname "$0")/.." && pwd)
regex=${2:-"^$src/(src|tests|bench)/.*\\.cpp\$"}
tidy=$(command -v run-clang-tidy-14 || command -v run-clang-tidy)
exec "$tidy" -p "$build" -quiet -j "${JOBS:-2}" "$regex"
