#!/usr/bin/env bash
# Instructions per call, counted by callgrind (independent of machine load):
# full verification vs raw HMAC-SHA1 (keyed per call) vs HMAC-SHA1 from a
# pre-keyed state, over the same base string, for 2, 10 and 100 query
# parameters; then get_current_user on a MemoryStore (2 parameters). Each
# figure is (Ir of CALLS calls − Ir of 0 calls) / CALLS.
#
# Callgrind runs SHA-1 in software (valgrind does not emulate the SHA
# extensions), so the HMAC columns count many more instructions than the
# hardware runs, and the ratios here are lower than the timed ones.
#
#   benches/instructions.sh [CALLS]     (default 2000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-2000}"
bin=$(cargo bench --all-features --bench instructions --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*instructions[^"]*\)".*/\1/p' | tail -1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ir() { # WHAT PARAMS CALLS → total instructions
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" "$1" "$2" "$3" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_call() { echo $((($(ir "$1" "$2" "$calls") - $(ir "$1" "$2" 0)) / calls)); }

printf '%6s | %12s | %12s | %12s | %10s | %10s\n' params verify raw prekeyed verify/raw verify/pre
printf '%6s-|-%12s-|-%12s-|-%12s-|-%10s-|-%10s\n' ------ ------------ ------------ ------------ ---------- ----------
for params in 2 10 100; do
    v=$(per_call verify "$params") r=$(per_call raw "$params") p=$(per_call prekeyed "$params")
    printf '%6s | %12s | %12s | %12s | %10s | %10s\n' "$params" "$v" "$r" "$p" \
        "$(awk "BEGIN{printf \"%.2f\", $v/$r}")" "$(awk "BEGIN{printf \"%.2f\", $v/$p}")"
done
# The requests are signed before get_current_user's loop: subtract that.
u=$(($(per_call user 2) - $(per_call sign 2))) r=$(per_call raw 2) p=$(per_call prekeyed 2)
printf '%6s | %12s | %12s | %12s | %10s | %10s\n' "user 2" "$u" "$r" "$p" \
    "$(awk "BEGIN{printf \"%.2f\", $u/$r}")" "$(awk "BEGIN{printf \"%.2f\", $u/$p}")"
