#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset `fuzz`, Debian's clang) and runs each one for a
# bounded time, starting from its small hand-made seed corpus in fuzz/corpus/<target>/.
#
#   scripts/fuzz-smoke.sh            # 20 s per target
#   scripts/fuzz-smoke.sh 300        # longer local run
#
# New interesting inputs go to a temporary directory (the checked-in seeds are never
# modified); a crash leaves its reproducer as crash-* in the current directory and makes the
# script fail. Reproduce with: build/fuzz/fuzz/fuzz_<target> crash-<hash>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
build_dir="build/fuzz"  # binaryDir of the `fuzz` preset
targets=(police_uk canonical mapped mapping)

if ! command -v clang++ >/dev/null; then
  echo "fuzz-smoke: clang++ not found (apt-get install clang)" >&2
  exit 1
fi

cmake --preset fuzz >/dev/null
cmake --build "${build_dir}" -j "${CRIMECAST_JOBS:-2}" \
  $(printf -- '--target fuzz_%s ' "${targets[@]}")

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "${work}/${t}"
  echo "== fuzz_${t}: ${seconds} s"
  # -max_len keeps inputs small enough to explore; -timeout flags hangs; the memory limit
  # catches unbounded buffering (a reader must never hold a whole record over its limit).
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    "${build_dir}/fuzz/fuzz_${t}" -max_total_time="${seconds}" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "${work}/${t}" "fuzz/corpus/${t}" 2>&1 |
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|invariant|artifact_prefix|Test unit written)" || true
  status=${PIPESTATUS[0]}
  if [[ ${status} -ne 0 ]]; then
    echo "fuzz_${t} FAILED (exit ${status})" >&2
    exit "${status}"
  fi
done
echo "fuzz-smoke: all ${#targets[@]} targets ran ${seconds} s without a crash"
