#!/usr/bin/env python3
"""Signs one request with oauthlib, an independent OAuth 1 client, for the
provider's interop tests (tests/integration/rsa.rs, body_hash.rs).

Reads a JSON object on stdin:
  {"method": "POST", "url": "https://…", "headers": {"Content-Type": "…"},
   "body": "…" or null, "client_key": "…", "client_secret": "…" (HMAC),
   "rsa_key": "-----BEGIN PRIVATE KEY-----…" (RSA), "signature_method": "RSA-SHA256",
   "resource_owner_key": …, "resource_owner_secret": …, "timestamp": "1700000000",
   "body_hash": "oauthlib" | "method"}
and prints {"uri": …, "headers": {…}, "body": …}.

body_hash "oauthlib" keeps what oauthlib adds to a non-form body (always a
SHA-1 oauth_body_hash); "method" replaces it with the hash of the signature
method (SHA-256 for *-SHA256), as the draft and MasterCard-style clients do.
"""

import base64
import hashlib
import json
import sys

from oauthlib.oauth1 import Client

HASHES = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


class MethodHashClient(Client):
    """oauthlib's client with the body hash of the signature method."""

    def get_oauth_params(self, request):
        params = [p for p in super().get_oauth_params(request) if p[0] != "oauth_body_hash"]
        content_type = request.headers.get("Content-Type", "")
        if request.body is not None and "application/x-www-form-urlencoded" not in content_type:
            digest = HASHES[self.signature_method.rsplit("-", 1)[1]](request.body.encode("utf-8"))
            params.append(("oauth_body_hash", base64.b64encode(digest.digest()).decode("ascii")))
        return params


def main():
    spec = json.load(sys.stdin)
    cls = MethodHashClient if spec.get("body_hash") == "method" else Client
    client = cls(
        spec["client_key"],
        client_secret=spec.get("client_secret"),
        resource_owner_key=spec.get("resource_owner_key"),
        resource_owner_secret=spec.get("resource_owner_secret"),
        signature_method=spec["signature_method"],
        rsa_key=spec.get("rsa_key"),
        timestamp=spec.get("timestamp"),
    )
    uri, headers, body = client.sign(
        spec["url"],
        http_method=spec["method"],
        body=spec.get("body"),
        headers=spec.get("headers") or {},
    )
    json.dump({"uri": uri, "headers": dict(headers), "body": body}, sys.stdout)


if __name__ == "__main__":
    main()
