#!/usr/bin/env bash
# Regenerates every benchmark figure of docs/benchmarks.md: the criterion benches of the pure
# core, then feige-loadgen's suites (feige-std, feige-smol, Redis pub/sub, the raw floor, round
# trips), written to docs/bench/ (results.json, results.md, criterion.txt, *.svg).
# Usage: bash scripts/bench.sh [extra feige-loadgen `all` options, e.g. --runs 5]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null; then
    apt-get update && apt-get install -y redis-server
fi

target="${CARGO_TARGET_DIR:-target}"
out=docs/bench
mkdir -p "$out"

cargo build --release -p feige-std -p feige-smol -p feige-bench

echo "== criterion benches of feige-core" >&2
cargo bench -p feige-core --bench wire --bench server --bench chat -- --warm-up-time 1 --measurement-time 2 2>&1 \
    | tee "$out/criterion.log" >&2
grep -E '^[a-z0-9_]+/|^ +(time|thrpt):' "$out/criterion.log" | grep -v '%' >"$out/criterion.txt" || true
rm -f "$out/criterion.log"

echo "== feige-loadgen all" >&2
"$target/release/feige-loadgen" all \
    --std "$target/release/feige" \
    --smol "$target/release/feige-smol" \
    --redis "$(command -v redis-server)" \
    --out "$out" "$@"
echo "written: $out/results.json $out/results.md $out/criterion.txt $out/*.svg" >&2
