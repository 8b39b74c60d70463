"""oauthlib's side of the peer comparison (benches/peers/run.sh).

Verifies the fixture request with oauthlib's ResourceEndpoint
(validate_protected_resource_request: parameter collection and checks,
timestamp, HMAC-SHA1 signature) and prints the median µs per verification, in this thread's CPU time.
The validator knows the one consumer and token and, like the other sides,
remembers no nonces.
"""

import json
import statistics
import sys
import time

from oauthlib.oauth1 import RequestValidator, ResourceEndpoint


class Validator(RequestValidator):
    def __init__(self, fixture):
        super().__init__()
        self.f = fixture

    # oauthlib's defaults are 20-30 characters; real clients send 32-42.
    nonce_length = (20, 64)
    enforce_ssl = True

    @property
    def dummy_client(self):
        return "dummyclientkeydummyclientkey"

    @property
    def dummy_access_token(self):
        return "dummyaccesstokendummyaccesstoken"

    def validate_client_key(self, client_key, request):
        return client_key == self.f["consumer_key"]

    def validate_access_token(self, client_key, token, request):
        return token == self.f["token"]

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        return True

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    def get_client_secret(self, client_key, request):
        return self.f["consumer_secret"]

    def get_access_token_secret(self, client_key, token, request):
        return self.f["token_secret"]


def main():
    with open(sys.argv[1]) as file:
        f = json.load(file)
    endpoint = ResourceEndpoint(Validator(f))
    headers = {"Authorization": f["authorization"]}

    def verify():
        valid, _ = endpoint.validate_protected_resource_request(
            f["url"], http_method=f["method"], body=None, headers=headers)
        assert valid, "oauthlib refuses the fixture"

    verify()
    start = time.thread_time()
    for _ in range(200):
        verify()
    per_call = (time.thread_time() - start) / 200
    calls = max(1, int(0.05 / per_call))
    batches = []
    for _ in range(20):
        start = time.thread_time()
        for _ in range(calls):
            verify()
        batches.append((time.thread_time() - start) / calls * 1e6)
    print(f"{statistics.median(batches):.3f}")


if __name__ == "__main__":
    main()
