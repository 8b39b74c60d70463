#!/usr/bin/env bash
# Peer comparison: the same signed request verified by this crate, by Python
# oauthlib (ResourceEndpoint) and by Node oauth-1.0a, side by side in one run.
# Installs the peers under target/peers (a venv, an npm project) on first
# use; needs python3 (with venv), node and npm, and cargo.
#
#   benches/peers/run.sh [ROUNDS]    (default 3; the table shows medians)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
rounds="${1:-3}"
peers="$PWD/target/peers"
mkdir -p "$peers"

if [ ! -x "$peers/venv/bin/python" ]; then
    echo "installing oauthlib into $peers/venv" >&2
    python3 -m venv "$peers/venv"
fi
"$peers/venv/bin/python" -c 'import oauthlib' 2>/dev/null ||
    "$peers/venv/bin/pip" install --quiet --disable-pip-version-check oauthlib >&2

if [ ! -d "$peers/node/node_modules/oauth-1.0a" ]; then
    echo "installing oauth-1.0a into $peers/node" >&2
    mkdir -p "$peers/node"
    (cd "$peers/node" && { [ -f package.json ] || npm init --yes >/dev/null; } &&
        npm install --silent --no-audit --no-fund oauth-1.0a >&2)
fi

echo "building our side (cargo bench --all-features --bench peers --no-run)" >&2
ours=$(cargo bench --all-features --bench peers --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\/peers-[^"]*\)".*/\1/p' | tail -1)
[ -x "$ours" ] || { echo "could not build benches/peers" >&2; exit 1; }

fixture="$peers/fixture.json"
"$ours" fixture >"$fixture"
versions="oauthlib $("$peers/venv/bin/python" -c 'import oauthlib; print(oauthlib.__version__)')"
versions+=", oauth-1.0a $(node -p "require('$peers/node/node_modules/oauth-1.0a/package.json').version")"
versions+=", Python $("$peers/venv/bin/python" -c 'import platform; print(platform.python_version())')"
versions+=", Node $(node --version)"

declare -a us_ours us_raw us_pre us_py us_node
for ((r = 0; r < rounds; r++)); do
    echo "round $((r + 1))/$rounds" >&2
    us_ours+=("$("$ours" time "$fixture" ours)")
    us_raw+=("$("$ours" time "$fixture" raw)")
    us_pre+=("$("$ours" time "$fixture" prekeyed)")
    us_py+=("$("$peers/venv/bin/python" "$here/oauthlib_verify.py" "$fixture")")
    us_node+=("$(NODE_PATH="$peers/node/node_modules" node "$here/node_verify.js" "$fixture")")
done

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
m_ours=$(median "${us_ours[@]}")
m_raw=$(median "${us_raw[@]}")
m_pre=$(median "${us_pre[@]}")
m_py=$(median "${us_py[@]}")
m_node=$(median "${us_node[@]}")

echo
echo "Verifying one HMAC-SHA1 request (2 query parameters, token; no nonce store)"
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')
echo "on ${cpu:-$(uname -m)} ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?));"
echo "$versions; CPU time, median of $rounds rounds:"
echo
echo "| implementation | µs per verification | × ours |"
echo "|---|---:|---:|"
row() { awk -v n="$1" -v us="$2" -v ours="$m_ours" 'BEGIN { printf "| %s | %.2f | %.1f× |\n", n, us, us / ours }'; }
row "oauth1-provider (this crate)" "$m_ours"
row "raw HMAC-SHA1 of the base string, keyed per call" "$m_raw"
row "HMAC-SHA1 of the base string from a pre-keyed state" "$m_pre"
row "Python oauthlib ResourceEndpoint" "$m_py"
row "Node oauth-1.0a" "$m_node"
echo
echo "rounds (ours / raw / pre-keyed / oauthlib / oauth-1.0a, µs): ${us_ours[*]} / ${us_raw[*]} / ${us_pre[*]} / ${us_py[*]} / ${us_node[*]}"
