#!/usr/bin/env bash
# Fuzz smoke run for CI: builds every target of the cargo-fuzz crate in
# fuzz/ exactly as `cargo fuzz build -s none` would (same flags, same target
# directory, so either build reuses the other's), without needing cargo-fuzz
# installed, then runs each target over its committed seeds (fuzz/seeds/) for
# a bounded time. Exits non-zero if a target fails to build or finds a crash.
#
#   .ci/fuzz-smoke.sh                 # every target, 15 s each
#   FUZZ_SMOKE_SECONDS=60 .ci/fuzz-smoke.sh verify
#
# Needs a C++ compiler (libfuzzer-sys builds libFuzzer). Stable Rust is
# enough: no sanitizer, so no nightly flags.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SMOKE_SECONDS:-15}"
host="$(rustc -vV | sed -n 's/^host: //p')"

# The flags cargo-fuzz 0.13 passes for `-s none` (sanitizer coverage for
# libFuzzer, `cfg(fuzzing)`, debug assertions on in the release build). Any
# difference from them, or from its profile override below, rebuilds every
# dependency instead of reusing `cargo fuzz`'s artifacts.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions \
-Ccodegen-units=1"

# Every [[bin]] of fuzz/Cargo.toml, or the targets named on the command line.
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(awk '/^\[\[bin\]\]/ { bin = 1; next }
        bin && /^name *=/ { gsub(/"/, "", $3); print $3; bin = 0 }' Cargo.toml)
fi
[ "${#targets[@]}" -gt 0 ] || { echo "no fuzz targets found" >&2; exit 1; }

echo "==> building ${targets[*]} for $host"
build_start=$SECONDS
bins=()
for target in "${targets[@]}"; do bins+=(--bin "$target"); done
# `--config …debug`: cargo-fuzz's override of the fuzz crate's profile.
cargo build --locked --release --config 'profile.release.debug="line-tables-only"' \
    --target "$host" "${bins[@]}"
echo "    built in $((SECONDS - build_start)) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
    seeds="seeds/$target"
    [ -d "$seeds" ] || { echo "no seed corpus $seeds" >&2; exit 1; }
    mkdir -p "$work/$target/corpus"
    echo "==> $target: ${seconds} s over $(find "$seeds" -type f | wc -l) seeds"
    # New inputs go to a scratch corpus; a crash exits non-zero and leaves
    # its input under the artifact prefix, which is printed.
    if ! "target/$host/release/$target" "$work/$target/corpus" "$seeds" \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$target/" 2>"$work/$target/log"; then
        tail -n 60 "$work/$target/log" >&2
        for artifact in "$work/$target"/crash-* "$work/$target"/leak-* "$work/$target"/timeout-* "$work/$target"/oom-*; do
            [ -e "$artifact" ] && { echo "--- $artifact (base64):" >&2; base64 "$artifact" >&2; }
        done
        echo "fuzz target $target failed" >&2
        exit 1
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$work/$target/log" | sed 's/^/    /'
done
echo "fuzz smoke run passed"
