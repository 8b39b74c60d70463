// oauth-1.0a's side of the peer comparison (benches/peers/run.sh).
//
// oauth-1.0a is a signing library: it has no Authorization header parser and
// no verifier, so this script parses the header (split on commas, percent-
// decode), has the library compute the signature of the received request
// (its base string and parameter normalization, HMAC-SHA1 from node:crypto),
// compares it in constant time and checks the timestamp — the same steps as
// the other sides. Prints the median µs per verification, in the process's
// CPU time (process.cpuUsage: user + system). No nonce store.

"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const OAuth = require("oauth-1.0a");

const f = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const oauth = OAuth({
  consumer: { key: f.consumer_key, secret: f.consumer_secret },
  signature_method: "HMAC-SHA1",
  hash_function(baseString, key) {
    return crypto.createHmac("sha1", key).update(baseString).digest("base64");
  },
});

function parseHeader(header) {
  const params = {};
  for (const part of header.replace(/^OAuth\s+/i, "").split(/\s*,\s*/)) {
    const m = /^([^=]+)="([^"]*)"$/.exec(part);
    if (!m) throw new Error(`malformed header part ${part}`);
    params[decodeURIComponent(m[1])] = decodeURIComponent(m[2]);
  }
  return params;
}

function verify() {
  const params = parseHeader(f.authorization);
  const { oauth_signature: received, realm, ...oauthData } = params;
  if (params.oauth_consumer_key !== f.consumer_key || params.oauth_token !== f.token) return false;
  const expected = oauth.getSignature(
    { url: f.url, method: f.method },
    f.token_secret,
    oauthData,
  );
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  const now = Math.floor(Date.now() / 1000);
  return a.length === b.length && crypto.timingSafeEqual(a, b) &&
    Math.abs(now - Number(params.oauth_timestamp)) <= 300;
}

/** CPU time used by this process so far, in µs. */
function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

if (!verify()) throw new Error("oauth-1.0a refuses the fixture");
let start = cpuMicros();
for (let i = 0; i < 2000; i++) verify();
const perCall = Math.max(0.01, (cpuMicros() - start) / 2000);
const calls = Math.max(1, Math.floor(20e3 / perCall));
const batches = [];
for (let b = 0; b < 50; b++) {
  start = cpuMicros();
  for (let i = 0; i < calls; i++) if (!verify()) throw new Error("refused");
  batches.push((cpuMicros() - start) / calls);
}
batches.sort((x, y) => x - y);
console.log(batches[Math.floor(batches.length / 2)].toFixed(3));
