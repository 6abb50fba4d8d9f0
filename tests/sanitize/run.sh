#!/usr/bin/env bash
# Builds argus with sanitizers and runs tests against that build:
#   run.sh asan BUILD_DIR  ASan+UBSan tree; the unit and integration ctests
#                          (the integration tests run BUILD_DIR/argus).
#   run.sh tsan BUILD_DIR  TSan tree; the tests that exercise concurrency:
#                          the index's rebuild swap, the server under
#                          concurrent clients, the admission queue, the
#                          stored-video analyses and jobs.
# Every sanitizer report halts the program and is also written under
# BUILD_DIR/sanitizer-logs/; the run fails if that folder holds any report,
# even one from a process whose exit status a test did not look at.
set -euo pipefail
mode=${1:?usage: run.sh asan|tsan BUILD_DIR}
build=${2:?usage: run.sh asan|tsan BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cd "$src"
case "$build" in /*) ;; *) build="$src/$build" ;; esac
jobs=${JOBS:-$(nproc)}
logs="$build/sanitizer-logs"
start=$(date +%s)

case "$mode" in
  asan) sanitize=address,undefined ;;
  tsan) sanitize=thread ;;
  *) echo "run.sh: mode is asan or tsan, not '$mode'" >&2; exit 2 ;;
esac

# Warnings are the main build's business (-Werror there); GCC warns
# differently with instrumentation.
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DARGUS_SANITIZE="$sanitize" -DARGUS_WERROR=OFF >/dev/null
if [ "$mode" = asan ]; then
  cmake --build "$build" -j "$jobs"
else
  cmake --build "$build" -j "$jobs" --target argus argus_store_tests
fi
built=$(date +%s)

rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$here/ubsan.supp:log_path=$logs/ubsan"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tsan.supp:log_path=$logs/tsan"
export ARGUS_BIN="$build/argus" ARGUS_SOURCE_DIR="$src"
# libgomp (FAISS's index build, oneDNN) is uninstrumented: TSan cannot see
# its barriers and reports every OpenMP team's hand-offs as races. One
# OpenMP thread keeps argus's own threads (HTTP pool, workers, rebuild swap,
# jobs) under test without them.
if [ "$mode" = tsan ]; then export OMP_NUM_THREADS=1; fi

rc=0
if [ "$mode" = asan ]; then
  ctest --test-dir "$build" -L 'unit|integration' -LE bench -j 2 --output-on-failure || rc=$?
else
  "$build/tests/argus_store_tests" --gtest_filter='VectorIndexTest.*' || rc=$?
  (cd tests/integration && python3 -m unittest -v test_protocol.LimitsTest) || rc=$?
  (cd tests/sanitize && python3 -m unittest -v test_concurrent) || rc=$?
  # Stored video: frames analysed side by side, the decoder's threads, jobs.
  (cd tests/integration && python3 -m unittest -v test_video_cli test_video) || rc=$?
fi

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  for f in $reports; do echo "=== $f"; cat "$f"; done
  echo "run.sh $mode: sanitizer reports above" >&2
  rc=1
fi
end=$(date +%s)
echo "run.sh $mode: build $((built - start)) s, tests $((end - built)) s, exit $rc"
exit $rc
