//! Every vector of `tests/data/published.json` (a copy of
//! `../shared/vectors/published.json`): base string URIs, percent-encoding,
//! normalized parameters, base strings, HMAC/PLAINTEXT signatures and whole
//! requests, with the recorded errata (`reproduces: false`) checked to stay
//! irreproducible.

use oauth1_provider::SignatureMethod;
use oauth1_provider::protocol::{Limits, SignedRequest, base_string_uri, percent_encode};
use serde_json::Value;

use crate::support::request::OwnedRequest;

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/..",
        "/tests/data/published.json"
    ))
    .expect("tests/data/published.json");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    doc["vectors"].as_array().expect("vectors array").clone()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: missing string {key}", v["id"]))
}

/// Builds the request a `kind: "request"` vector describes.
pub fn request_of(v: &Value) -> OwnedRequest {
    let r = &v["request"];
    let headers = r["headers"].as_object().expect("headers");
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    let mut req = OwnedRequest::from_url(s(r, "method"), s(r, "url"), header("Host").as_deref());
    req.authorization = header("Authorization");
    req.content_type = header("Content-Type");
    req.body = r["body"].as_str().unwrap_or("").as_bytes().to_vec();
    req
}

fn check_request(v: &Value) {
    let id = s(v, "id");
    let owned = request_of(v);
    let signed = SignedRequest::collect(&owned.view(), &Limits::default())
        .unwrap_or_else(|e| panic!("{id}: collect failed: {e}"));
    let expected = &v["expected"];
    if let Some(bs) = expected["base_string"].as_str() {
        assert_eq!(signed.base_string().unwrap(), bs, "{id}: base string");
    }
    if let Some(uri) = expected["base_string_uri"].as_str() {
        assert_eq!(
            signed.base_string_uri().unwrap(),
            uri,
            "{id}: base string URI"
        );
    }
    if let Some(np) = expected["normalized_params"].as_str() {
        assert_eq!(
            signed.normalized_parameters(),
            np,
            "{id}: normalized parameters"
        );
    }
    let method = SignatureMethod::from_name(s(v, "signature_method")).expect("known method");
    assert_eq!(signed.signature_method(), Some(method), "{id}");
    assert_eq!(signed.consumer_key(), Some(s(v, "consumer_key")), "{id}");
    assert_eq!(signed.token(), v["token"].as_str(), "{id}: token");
    let cs = s(v, "consumer_secret");
    let ts = v["token_secret"].as_str().unwrap_or("");
    let computed = oauth1_provider::danger::expected_signature(&signed, method, cs, ts).unwrap();
    assert_eq!(computed, s(expected, "signature"), "{id}: signature");
    let verdict = signed.verify_signature(cs, ts);
    if v["valid"].as_bool() == Some(false) {
        let e = verdict.expect_err(id);
        assert_eq!(
            (e.status(), e.problem().code()),
            (401, "signature_invalid"),
            "{id}"
        );
    } else {
        verdict.unwrap_or_else(|e| panic!("{id}: {e}"));
        // Any change to the signature must fail.
        let mut wrong = computed.clone().into_bytes();
        wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
        assert!(!method.verify(
            &signed.base_string().unwrap(),
            cs,
            ts,
            std::str::from_utf8(&wrong).unwrap()
        ));
    }
    check_erratum(v, &computed);
}

/// A `reproduces: false` vector records a published value the inputs do not
/// give: ours must differ from it (and match the corrected one, checked above).
fn check_erratum(v: &Value, computed: &str) {
    let published = &v["published"];
    if published["reproduces"].as_bool() == Some(false) {
        let wrong = s(published, "signature");
        assert_ne!(computed, wrong, "{}: erratum reproduced", v["id"]);
    }
}

#[test]
fn every_published_vector_passes() {
    let all = vectors();
    assert_eq!(
        all.len(),
        58,
        "the vector file changed: review the new vectors"
    );
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for v in &all {
        let id = s(v, "id");
        let kind = s(v, "kind");
        let expected = &v["expected"];
        match kind {
            "request" => check_request(v),
            "base_string_uri" => {
                let owned = OwnedRequest::from_url("GET", s(v, "url"), v["host"].as_str());
                let view = owned.view();
                assert_eq!(
                    base_string_uri(&owned.scheme, &owned.authority, view.path()).unwrap(),
                    s(expected, "base_string_uri"),
                    "{id}"
                );
            }
            "percent_encode" => {
                assert_eq!(
                    percent_encode(s(v, "input")),
                    s(expected, "encoded"),
                    "{id}"
                );
            }
            "normalize_params" => {
                let owned = OwnedRequest::from_url(
                    "GET",
                    &format!("http://h/?{}", s(v, "input_form")),
                    None,
                );
                let signed = SignedRequest::collect(&owned.view(), &Limits::default()).unwrap();
                assert_eq!(
                    signed.normalized_parameters(),
                    s(expected, "normalized_params"),
                    "{id}"
                );
            }
            "base_string" | "rsa_sha1" => {
                let url = format!("{}?{}", s(v, "url"), s(v, "params_form"));
                let owned = OwnedRequest::from_url(s(v, "method"), &url, None);
                let signed = SignedRequest::collect(&owned.view(), &Limits::default()).unwrap();
                assert_eq!(
                    signed.base_string().unwrap(),
                    s(expected, "base_string"),
                    "{id}"
                );
                // The base string is checked here; the RSA-SHA1 signature
                // itself in rsa.rs (feature `rsa`).
            }
            "hmac" => {
                let method = SignatureMethod::from_name(s(v, "signature_method")).unwrap();
                let (bs, cs, ts) = (
                    s(v, "base_string"),
                    s(v, "consumer_secret"),
                    s(v, "token_secret"),
                );
                let sig = method.sign(bs, cs, ts);
                assert_eq!(sig, s(expected, "signature"), "{id}");
                assert!(method.verify(bs, cs, ts, &sig), "{id}");
                assert_eq!(
                    SignatureMethod::Plaintext.sign(bs, cs, ts),
                    s(expected, "signing_key"),
                    "{id}"
                );
            }
            "plaintext" => {
                let (cs, ts) = (s(v, "consumer_secret"), s(v, "token_secret"));
                assert_eq!(
                    SignatureMethod::Plaintext.sign("", cs, ts),
                    s(expected, "signature"),
                    "{id}"
                );
            }
            other => panic!("{id}: unknown vector kind {other}"),
        }
        *seen.entry(kind.to_owned()).or_default() += 1;
    }
    assert_eq!(seen.values().sum::<usize>(), 58);
}
