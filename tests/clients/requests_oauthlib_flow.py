#!/usr/bin/env python3
"""The three-legged OAuth 1.0a flow against the demo provider, signed by
oauthlib through requests-oauthlib: an independent client for the
integration tests (tests/integration/clients_python.rs runs it).

Every request to the token endpoints and to the API is signed by oauthlib;
the sign-in and the consent page are plain `requests` with a cookie session
(parsing the consent form's CSRF field), as a browser would post them.

Prints one JSON object on stdout: for each signature method the status of
each step and of each protected call, and the refusals (PLAINTEXT over plain
HTTP, a token used on another origin, a request for an unknown Host). The
Rust test asserts on it; this script asserts nothing itself, so a refusal is
reported, not raised.

With --scope, it instead runs one flow asking for that scope and reports the
photo API's answers to its token, and the identity token (/_ah/OAuthIdentify)
as PyJWT decodes it with the consumer secret, and what PyJWT says of it with
--other-secret or another audience.
"""

import argparse
import json
import re
import sys
from urllib.parse import parse_qs, unquote, urlencode

import jwt
import oauthlib
import requests
from requests_oauthlib import OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

REQUEST_TOKEN = "/_ah/OAuthGetRequestToken"
AUTHORIZE = "/_ah/OAuthAuthorizeToken"
ACCESS_TOKEN = "/_ah/OAuthGetAccessToken"
IDENTIFY = "/_ah/OAuthIdentify"
TIMEOUT = 30

# Query and form parameters a real app sends: a literal `+`, spaces (sent as
# `+` by requests' form encoding), UTF-8 beyond Latin-1, repeated names, an
# empty value, reserved characters.
PARAMS = [
    ("q", "a+b c"),
    ("city", "Zürich € 🦀"),
    ("tag", "beta"),
    ("tag", "alpha"),
    ("tag", "alpha beta"),
    ("empty", ""),
    ("expr", "x=1&y=2/3?"),
]


def outcome(response):
    """Status, and the JSON body or the oauth_problem of a response."""
    result = {"status": response.status_code}
    if response.headers.get("Content-Type", "").startswith("application/json"):
        result["json"] = response.json()
    else:
        problem = parse_qs(response.text).get("oauth_problem")
        result["oauth_problem"] = problem[0] if problem else None
        result["text"] = response.text[:500]
    return result


def signed_in_session(base, email, password):
    """A cookie session signed in to the provider's own login page."""
    browser = requests.Session()
    reply = browser.post(
        base + "/login",
        data={"email": email, "password": password, "next": "/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if reply.status_code != 303:
        raise SystemExit(f"sign-in failed: {reply.status_code} {reply.text[:200]}")
    return browser


def consent(browser, base, authorize_url, decision):
    """Opens the consent page and answers it with the page's CSRF token;
    returns the callback URL the provider redirects to."""
    page = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
    if page.status_code != 200:
        raise SystemExit(f"consent page: {page.status_code} {page.text[:200]}")
    def field(name):
        found = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page.text)
        if not found:
            raise SystemExit(f"no {name} field on the consent page: {page.text[:500]}")
        return found.group(1)

    answer = browser.post(
        base + AUTHORIZE,
        data={
            "oauth_token": field("oauth_token"),
            "csrf_token": field("csrf_token"),
            "decision": decision,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if answer.status_code != 303:
        raise SystemExit(f"consent answer: {answer.status_code} {answer.text[:200]}")
    return answer.headers["Location"]


def three_legged(args, method, signature_type, email, password, scope=None):
    """Request token (asking for `scope` when given), consent, access token —
    the token calls signed with `method`, its parameters sent as
    `signature_type`. Returns the steps' results and the token credentials."""
    steps = {}
    oauth = OAuth1Session(
        args.consumer_key,
        client_secret=args.consumer_secret,
        callback_uri=args.callback,
        signature_method=method,
        signature_type=signature_type,
    )
    request_token = args.base + REQUEST_TOKEN
    if scope is not None:
        request_token += "?" + urlencode({"scope": scope})
    temporary = oauth.fetch_request_token(request_token, timeout=TIMEOUT)
    steps["callback_confirmed"] = temporary.get("oauth_callback_confirmed")
    browser = signed_in_session(args.base, email, password)
    callback = consent(
        browser, args.base, oauth.authorization_url(args.base + AUTHORIZE), "allow"
    )
    steps["callback"] = callback.split("?")[0]
    oauth.parse_authorization_response(callback)
    token = oauth.fetch_access_token(args.base + ACCESS_TOKEN, timeout=TIMEOUT)
    steps["access_token"] = bool(token.get("oauth_token"))
    return steps, token


def session(args, token, method, signature_type):
    return OAuth1Session(
        args.consumer_key,
        client_secret=args.consumer_secret,
        resource_owner_key=token["oauth_token"],
        resource_owner_secret=token["oauth_token_secret"],
        signature_method=method,
        signature_type=signature_type,
    )


def protected_calls(args, token, method):
    """/api/whoami signed every way a client can send the parameters."""
    whoami = args.base + "/api/whoami"
    header = session(args, token, method, "AUTH_HEADER")
    query = session(args, token, method, "QUERY")
    body = session(args, token, method, "BODY")
    return {
        "header_get": outcome(header.get(whoami, params=PARAMS, timeout=TIMEOUT)),
        "header_form_post": outcome(header.post(whoami, data=PARAMS, timeout=TIMEOUT)),
        "query_get": outcome(query.get(whoami, params=PARAMS, timeout=TIMEOUT)),
        "body_form_post": outcome(body.post(whoami, data=PARAMS, timeout=TIMEOUT)),
        "admin": outcome(header.get(args.base + "/api/admin", timeout=TIMEOUT)),
    }


def refused(call):
    """The outcome of a token request the provider refuses."""
    try:
        call()
    except TokenRequestDenied as denied:
        return outcome(denied.response)
    return {"status": 200}


def identity(args, signed):
    """The identity token fetched with `signed`, decoded by PyJWT with the
    consumer secret (audience: the consumer key, issuer: the provider's
    origin), and PyJWT's verdict with another secret and another audience."""
    reply = signed.get(args.base + IDENTIFY, timeout=TIMEOUT)
    if reply.status_code != 200:
        return outcome(reply)
    authorization = reply.request.headers["Authorization"]
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    sent = re.search(r'oauth_nonce="([^"]*)"', authorization)
    result = {
        "status": reply.status_code,
        "content_type": reply.headers.get("Content-Type"),
        "sent_nonce": unquote(sent.group(1)) if sent else None,
    }

    def decode(secret, audience):
        return jwt.decode(
            reply.text,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=args.base,
        )

    result["claims"] = decode(args.consumer_secret, args.consumer_key)
    for name, secret, audience in [
        ("other_secret", args.other_secret, args.consumer_key),
        ("other_audience", args.consumer_secret, "another-consumer"),
    ]:
        try:
            decode(secret, audience)
            result[name] = "accepted"
        except jwt.PyJWTError as refused:
            result[name] = type(refused).__name__
    return result


def grants_report(args, user):
    """--scope: one flow asking for it; the photo API and the identity
    endpoint called with its token."""
    steps, token = three_legged(args, "HMAC-SHA1", "AUTH_HEADER", *user, scope=args.scope)
    signed = session(args, token, "HMAC-SHA1", "AUTH_HEADER")
    photos = args.base + "/api/photos"
    return {
        "oauthlib": oauthlib.__version__,
        "pyjwt": jwt.__version__,
        "flow": steps,
        "list": outcome(signed.get(photos, timeout=TIMEOUT)),
        "add": outcome(signed.post(photos, data={"title": "From Python"}, timeout=TIMEOUT)),
        "list_after": outcome(signed.get(photos, timeout=TIMEOUT)),
        "whoami": outcome(signed.get(args.base + "/api/whoami", timeout=TIMEOUT)),
        "identity": identity(args, signed),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the provider's origin, http://127.0.0.1:PORT")
    parser.add_argument("--other-origin",
                        help="another public origin of the same provider")
    parser.add_argument("--consumer-key", required=True)
    parser.add_argument("--consumer-secret", required=True)
    parser.add_argument("--callback", required=True)
    parser.add_argument("--user", required=True, help="EMAIL:PASSWORD")
    parser.add_argument("--admin", help="EMAIL:PASSWORD of an admin")
    parser.add_argument("--scope",
                        help="only run one flow asking for this scope (see above)")
    parser.add_argument("--other-secret",
                        help="with --scope: a secret the identity token was not signed with")
    args = parser.parse_args()
    args.base = args.base.rstrip("/")
    user = args.user.split(":", 1)
    if args.scope is not None:
        if args.other_secret is None:
            parser.error("--scope needs --other-secret")
        json.dump(grants_report(args, user), sys.stdout, ensure_ascii=False)
        print()
        return
    if args.admin is None or args.other_origin is None:
        parser.error("--admin and --other-origin are required without --scope")
    admin = args.admin.split(":", 1)

    report = {"oauthlib": oauthlib.__version__, "flows": {}}
    # Each method once, the token calls' parameters in a different place
    # each time: header, query, form body.
    for method, signature_type in [
        ("HMAC-SHA1", "AUTH_HEADER"),
        ("HMAC-SHA256", "QUERY"),
        ("HMAC-SHA512", "BODY"),
    ]:
        steps, token = three_legged(args, method, signature_type, *user)
        steps["signature_type"] = signature_type
        steps["calls"] = protected_calls(args, token, method)
        report["flows"][method] = steps
        if method == "HMAC-SHA1":
            sha1_token = token

    _, admin_token = three_legged(args, "HMAC-SHA1", "AUTH_HEADER", *admin)
    report["admin"] = outcome(
        session(args, admin_token, "HMAC-SHA1", "AUTH_HEADER").get(
            args.base + "/api/admin", timeout=TIMEOUT
        )
    )

    plaintext = OAuth1Session(
        args.consumer_key,
        client_secret=args.consumer_secret,
        callback_uri=args.callback,
        signature_method="PLAINTEXT",
    )
    report["plaintext_request_token"] = refused(
        lambda: plaintext.fetch_request_token(args.base + REQUEST_TOKEN, timeout=TIMEOUT)
    )

    signed = session(args, sha1_token, "HMAC-SHA1", "AUTH_HEADER")
    other = args.other_origin.rstrip("/")
    report["other_origin"] = outcome(signed.get(other + "/api/whoami", timeout=TIMEOUT))
    # Signed for the URL it is sent to, but addressed (Host) to a site the
    # provider does not serve.
    report["unknown_host"] = outcome(
        signed.get(
            args.base + "/api/whoami",
            headers={"Host": "evil.example"},
            timeout=TIMEOUT,
        )
    )
    json.dump(report, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
