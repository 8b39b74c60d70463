#!/usr/bin/env bash
# A Python virtualenv with the independent OAuth 1 clients the integration
# tests sign with (tests/clients/requirements.txt: oauthlib,
# requests-oauthlib, and cryptography + PyJWT for RSA).
#
# Source it, then call make_python_venv: it creates (or reuses, when its
# requirements have not changed) target/ci-venv and exports
# OAUTH1_TEST_PYTHON, the venv's python, which the tests look for.

OAUTH1_VENV="${OAUTH1_VENV:-target/ci-venv}"

make_python_venv() {
    local requirements=tests/clients/requirements.txt
    local stamp="$OAUTH1_VENV/.requirements"
    if [ ! -x "$OAUTH1_VENV/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
        printf '[python] creating %s\n' "$OAUTH1_VENV" >&2
        rm -rf "$OAUTH1_VENV"
        python3 -m venv "$OAUTH1_VENV" || return 1
        "$OAUTH1_VENV/bin/pip" install --quiet --disable-pip-version-check \
            -r "$requirements" || return 1
        cp "$requirements" "$stamp"
    fi
    OAUTH1_TEST_PYTHON="$(cd "$(dirname "$OAUTH1_VENV/bin/python")" && pwd)/python"
    export OAUTH1_TEST_PYTHON
    "$OAUTH1_TEST_PYTHON" -c 'import oauthlib, requests_oauthlib; print("[python] oauthlib", oauthlib.__version__)' >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    cd "$(dirname "$0")/.." && make_python_venv && echo "OAUTH1_TEST_PYTHON=$OAUTH1_TEST_PYTHON"
fi
