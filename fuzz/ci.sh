#!/usr/bin/env bash
# Builds every cargo-fuzz target on the stable toolchain and runs each one for a short bounded
# time over its committed seeds and regression inputs. Called from .ci/run; a crash or a broken
# invariant fails it, and the input that did it is left in fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS  seconds per target (default 15)
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-15}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Stable rustc has no AddressSanitizer, hence --sanitizer none; -a keeps debug assertions and
# overflow checks on, so arithmetic bugs fail too.
cargo fuzz build --sanitizer none -a

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo fuzz list); do
  inputs=("seeds/$target")
  [ -d "regressions/$target" ] && inputs+=("regressions/$target")
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  # The first corpus folder is scratch: new inputs never land in the repository.
  if cargo fuzz run --sanitizer none -a "$target" "$scratch/$target" "${inputs[@]}" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    echo "fuzz $target: ok, ${runs:-?} runs in ${seconds}s"
  else
    echo "fuzz $target: FAILED"
    tail -n 60 "$log"
    exit 1
  fi
done
