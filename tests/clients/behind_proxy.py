#!/usr/bin/env python3
"""The three-legged flow through a TLS-terminating reverse proxy that mounts
the demo under a path prefix it strips, signed by oauthlib through
requests-oauthlib over the public URLs; the authorize step as a browser
that follows the pages' own links; then the same signed request sent
straight to the demo with the proxy's headers forged (run by
tests/integration/reverse_proxy.rs).

The proxy's certificate is trusted through REQUESTS_CA_BUNDLE. Prints one
JSON object on stdout; asserts nothing itself.
"""

import argparse
import html
import json
import re
import sys
from urllib.parse import urljoin, urlsplit

import requests
from requests_oauthlib import OAuth1, OAuth1Session

from requests_oauthlib_flow import (
    AUTHORIZE,
    PARAMS,
    REQUEST_TOKEN,
    TIMEOUT,
    outcome,
    session,
    three_legged,
)


def form_on(page):
    """The action and the fields of the first form on a page."""
    action = re.search(r'<form method="post" action="([^"]*)"', page)
    fields = re.findall(r'name="([^"]*)" value="([^"]*)"', page)
    if not action:
        raise SystemExit(f"no form on the page: {page[:500]}")
    return html.unescape(action.group(1)), {n: html.unescape(v) for n, v in fields}


def path_of(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def as_a_browser(args, email, password):
    """From the authorization URL to the callback as a browser that is not
    signed in: following only the Location headers and form actions the
    pages give, resolved against the public URL."""
    oauth = OAuth1Session(
        args.consumer_key, client_secret=args.consumer_secret, callback_uri=args.callback
    )
    oauth.fetch_request_token(args.base + REQUEST_TOKEN, timeout=TIMEOUT)
    browser = requests.Session()
    seen = {}
    url = oauth.authorization_url(args.base + AUTHORIZE)
    reply = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    url = urljoin(url, reply.headers.get("Location", ""))
    seen["login_page"] = path_of(url)
    page = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    action, fields = form_on(page.text)
    seen["login_action"] = action
    fields.update(email=email, password=password)
    reply = browser.post(urljoin(url, action), data=fields, allow_redirects=False,
                         timeout=TIMEOUT)
    url = urljoin(url, reply.headers.get("Location", ""))
    seen["back_to"] = path_of(url).split("?")[0]
    page = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    action, fields = form_on(page.text)
    seen["consent_action"] = action
    fields["decision"] = "allow"
    reply = browser.post(urljoin(url, action), data=fields, allow_redirects=False,
                         timeout=TIMEOUT)
    seen["answer_status"] = reply.status_code
    seen["callback"] = reply.headers.get("Location", "").split("?")[0]
    return seen


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
    user = args.user.split(":", 1)
    steps, token = three_legged(args, "HMAC-SHA1", "AUTH_HEADER", *user)
    report["flow"] = steps
    report["browser"] = as_a_browser(args, *user)
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
