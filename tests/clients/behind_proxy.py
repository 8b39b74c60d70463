#!/usr/bin/env python3
"""The three-legged flow through a TLS-terminating reverse proxy that mounts
the demo under a path prefix it strips, signed by oauthlib through
requests-oauthlib over the public URLs; then the same signed request sent
straight to the demo with the proxy's headers forged (run by
tests/integration/reverse_proxy.rs).

The proxy's certificate is trusted through REQUESTS_CA_BUNDLE. Prints one
JSON object on stdout; asserts nothing itself.
"""

import argparse
import json
import sys
from urllib.parse import urlsplit

import requests
from requests_oauthlib import OAuth1

from requests_oauthlib_flow import PARAMS, TIMEOUT, outcome, session, three_legged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the public base URL, https://HOST:PORT/PREFIX")
    parser.add_argument("--direct", required=True,
                        help="the demo's own address, http://127.0.0.1:PORT")
    parser.add_argument("--consumer-key", required=True)
    parser.add_argument("--consumer-secret", required=True)
    parser.add_argument("--callback", required=True)
    parser.add_argument("--user", required=True, help="EMAIL:PASSWORD")
    args = parser.parse_args()
    args.base = args.base.rstrip("/")
    public = urlsplit(args.base)

    report = {}
    steps, token = three_legged(args, "HMAC-SHA1", "AUTH_HEADER", *args.user.split(":", 1))
    report["flow"] = steps
    signed = session(args, token, "HMAC-SHA1", "AUTH_HEADER")
    whoami = args.base + "/api/whoami"
    report["whoami"] = outcome(signed.get(whoami, params=PARAMS, timeout=TIMEOUT))
    report["whoami_form_post"] = outcome(signed.post(whoami, data=PARAMS, timeout=TIMEOUT))

    # Signed for the public URL, sent to the demo directly by a peer that is
    # not the trusted proxy, with the headers the proxy would have added.
    auth = OAuth1(
        args.consumer_key,
        client_secret=args.consumer_secret,
        resource_owner_key=token["oauth_token"],
        resource_owner_secret=token["oauth_token_secret"],
    )
    forged = {
        "X-Forwarded-Proto": public.scheme,
        "X-Forwarded-Host": public.netloc,
        "X-Forwarded-Prefix": public.path,
        "Forwarded": f'proto={public.scheme};host="{public.netloc}"',
    }
    for name, extra in [("spoofed", {}), ("spoofed_with_host", {"Host": public.netloc})]:
        request = requests.Request("GET", whoami, auth=auth).prepare()
        request.url = args.direct.rstrip("/") + "/api/whoami"
        request.headers.update(forged)
        request.headers.update(extra)
        reply = requests.Session().send(request, timeout=TIMEOUT)
        report[name] = outcome(reply)
    json.dump(report, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
