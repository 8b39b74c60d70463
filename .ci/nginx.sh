#!/usr/bin/env bash
# The reverse proxy the integration tests put in front of the demo
# (tests/integration/reverse_proxy.rs): Debian's nginx, and the openssl CLI
# that makes the test certificate, installed with apt-get only when missing.
#
# Source it, then call setup_nginx: it installs what is missing and exports
# OAUTH1_TEST_NGINX, which the tests look for. The tests start nginx
# themselves, in the foreground on loopback, with a configuration, a
# self-signed certificate and logs in a temporary directory; nothing here
# starts the system's nginx service.

setup_nginx() {
    local nginx=/usr/sbin/nginx
    if [ ! -x "$nginx" ] || ! command -v openssl >/dev/null; then
        printf '[nginx] installing nginx and openssl\n' >&2
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -q || return 1
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx openssl || return 1
    fi
    OAUTH1_TEST_NGINX="$nginx"
    export OAUTH1_TEST_NGINX
    "$nginx" -v
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    setup_nginx && echo "OAUTH1_TEST_NGINX=$OAUTH1_TEST_NGINX"
fi
