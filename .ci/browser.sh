#!/usr/bin/env bash
# The browser the integration tests drive (tests/integration/browser.rs):
# Debian's chromium and chromium-driver, installed with apt-get only when
# missing.
#
# Source it, then call setup_browser: it installs what is missing and
# exports OAUTH1_TEST_CHROMEDRIVER and OAUTH1_TEST_CHROMIUM, which the tests
# look for. The tests start chromedriver themselves, on a loopback port it
# binds itself (--port=0) and reports.

setup_browser() {
    local chromedriver=/usr/bin/chromedriver chromium=/usr/bin/chromium
    if [ ! -x "$chromedriver" ] || [ ! -x "$chromium" ]; then
        printf '[browser] installing chromium and chromium-driver\n' >&2
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -q || return 1
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver || return 1
    fi
    OAUTH1_TEST_CHROMEDRIVER="$chromedriver"
    OAUTH1_TEST_CHROMIUM="$chromium"
    export OAUTH1_TEST_CHROMEDRIVER OAUTH1_TEST_CHROMIUM
    "$chromedriver" --version >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    setup_browser && echo "OAUTH1_TEST_CHROMEDRIVER=$OAUTH1_TEST_CHROMEDRIVER" \
        && echo "OAUTH1_TEST_CHROMIUM=$OAUTH1_TEST_CHROMIUM"
fi
