//! RSA-SHA1 and RSA-SHA256 (feature `rsa`): the published RSA-SHA1 vector,
//! keys in every accepted encoding, the three-legged flow with a generated
//! key, and every refusal (status + `oauth_problem`).

use std::sync::OnceLock;

use oauth1_provider::client::{ConsumerPrivateKey, Signer};
use oauth1_provider::model::ManualClock;
use oauth1_provider::protocol::{ConsumerPublicKey, KeyError};
use oauth1_provider::provider::Reason;
use oauth1_provider::{Consumer, ConsumerRegistry, MemoryStore, Provider, SignatureMethod};
use serde_json::Value;

use crate::support::breadth::{ORIGIN, all_methods, site};
use crate::support::harness::{alice, assert_refused};
use crate::support::oauthlib::{from_oauthlib, oauthlib_sign};
use crate::support::request::OwnedRequest;

/// One 1024-bit key for the whole test binary (generating is slow in debug).
fn key() -> &'static ConsumerPrivateKey {
    static KEY: OnceLock<ConsumerPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| ConsumerPrivateKey::generate(1024).unwrap())
}

fn other_key() -> &'static ConsumerPrivateKey {
    static KEY: OnceLock<ConsumerPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| ConsumerPrivateKey::generate(1024).unwrap())
}

fn vector() -> Value {
    let data: Value =
        serde_json::from_str(include_str!("../data/published.json")).expect("published.json");
    data["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "wiki-rsa-sha1-01")
        .cloned()
        .expect("the RSA-SHA1 vector")
}

fn consumers() -> ConsumerRegistry {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::rsa("rsa-app", key().public_key(), "RSA App")
            .callback_prefix("https://client.example/cb")
            .two_legged(true),
    );
    consumers.register(Consumer::new("hmac-app", "hmac-secret", "HMAC App").two_legged(true));
    consumers
}

fn rsa_signer(method: SignatureMethod) -> Signer<'static> {
    Signer::new(method, "rsa-app", "").rsa_key(key())
}

#[tokio::test]
async fn the_published_rsa_sha1_vector_verifies_through_the_provider() {
    let v = vector();
    let key = ConsumerPublicKey::from_pem(v["public_key_pem"].as_str().unwrap()).unwrap();
    assert_eq!(key.bits(), 1024);
    let signature =
        oauth1_provider::protocol::percent_encode(v["expected"]["signature"].as_str().unwrap());
    let url = format!(
        "{}?{}&oauth_signature={signature}",
        v["url"].as_str().unwrap(),
        v["params_form"].as_str().unwrap()
    );
    let request = OwnedRequest::from_url("GET", &url, None);
    let consumers = ConsumerRegistry::new();
    consumers.register(Consumer::rsa("dpf43f3p2l4k3l03", key, "Wiki").two_legged(true));
    let provider = Provider::new(
        MemoryStore::new(),
        MemoryStore::new(),
        consumers,
        all_methods(),
    )
    .with_clock(ManualClock::at_unix(1_196_666_512));
    let context = provider.authenticate(&request.view()).await.unwrap();
    assert_eq!(context.get_oauth_consumer_key(), "dpf43f3p2l4k3l03");
    // The base string is the vector's.
    let signed =
        oauth1_provider::protocol::SignedRequest::collect(&request.view(), &Default::default())
            .unwrap();
    assert_eq!(
        signed.base_string().unwrap(),
        v["expected"]["base_string"].as_str().unwrap()
    );
    // One changed parameter and it no longer verifies.
    let tampered = url.replace("size=original", "size=large");
    let request = OwnedRequest::from_url("GET", &tampered, None);
    let err = provider.authenticate(&request.view()).await.unwrap_err();
    assert_eq!(
        (err.status(), err.problem().unwrap().code()),
        (401, "signature_invalid")
    );
}

#[test]
fn keys_are_read_from_pem_der_and_certificates() {
    let v = vector();
    let certificate = v["public_key_pem"].as_str().unwrap();
    let from_cert = ConsumerPublicKey::from_pem(certificate).unwrap();
    // The same key as SubjectPublicKeyInfo PEM and DER.
    let spki_pem = from_cert.to_pem();
    assert!(spki_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(ConsumerPublicKey::from_pem(&spki_pem).unwrap(), from_cert);
    use base64::Engine as _;
    let body: String = certificate
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    assert_eq!(ConsumerPublicKey::from_der(&der).unwrap(), from_cert);
    // Garbage and non-keys are refused with a clear error.
    assert_eq!(
        ConsumerPublicKey::from_pem("not a key"),
        Err(KeyError::Malformed)
    );
    assert_eq!(
        ConsumerPublicKey::from_der(b"\x30\x00"),
        Err(KeyError::Malformed)
    );
    assert!(ConsumerPrivateKey::from_pem(certificate).is_err());
    // Debug shows the size only.
    assert_eq!(format!("{from_cert:?}"), "ConsumerPublicKey { bits: 1024 }");
}

#[tokio::test]
async fn three_legged_flow_with_rsa_sha1_and_rsa_sha256() {
    for method in [SignatureMethod::RsaSha1, SignatureMethod::RsaSha256] {
        let s = site(consumers(), all_methods());
        let (token, secret) = s.three_legged(|| rsa_signer(method), alice()).await;
        let url = format!("{ORIGIN}/photos?size=original");
        let request = s.signed(rsa_signer(method).token(&token, &secret), "GET", &url, None);
        let context = s.provider.authenticate(&request.view()).await.unwrap();
        assert_eq!(context.get_current_user().unwrap(), &alice());
        assert_eq!(context.get_oauth_consumer_key(), "rsa-app");
        // The token secret is not part of an RSA signature (§3.4.3): a
        // wrong one changes nothing.
        let request = s.signed(
            rsa_signer(method).token(&token, "whatever"),
            "GET",
            &url,
            None,
        );
        s.provider.authenticate(&request.view()).await.unwrap();
    }
}

/// The identity endpoint signs its token with the consumer secret, and an
/// RSA consumer has none: 403 `permission_denied`, after the request
/// itself verified (its nonce is spent: a replay is `nonce_used`).
#[tokio::test]
async fn an_rsa_consumer_gets_no_identity_token() {
    let s = site(consumers(), all_methods());
    let method = SignatureMethod::RsaSha256;
    let (token, secret) = s.three_legged(|| rsa_signer(method), alice()).await;
    let url = format!("{ORIGIN}/_ah/OAuthIdentify");
    let request = s.signed(rsa_signer(method).token(&token, &secret), "GET", &url, None);
    let response = s.provider.identify(&request.view()).await;
    assert_refused(&response, 403, "permission_denied");
    assert_ne!(
        response.header("content-type"),
        Some(oauth1_provider::provider::JWT_CONTENT_TYPE),
        "no token"
    );
    let replay = s.provider.identify(&request.view()).await;
    assert_refused(&replay, 401, "nonce_used");
}

#[tokio::test]
async fn rsa_consumers_accept_only_rsa() {
    let s = site(consumers(), all_methods());
    let url = format!("{ORIGIN}/api/whoami");
    // HMAC with the empty secret an RSA consumer "has", or any other.
    for secret in ["", "rsa-app", "anything"] {
        for method in [SignatureMethod::HmacSha1, SignatureMethod::HmacSha256] {
            let request = s.signed(Signer::new(method, "rsa-app", secret), "GET", &url, None);
            let err = s.provider.authenticate(&request.view()).await.unwrap_err();
            assert_eq!(
                (err.status(), err.problem().unwrap().code()),
                (401, "signature_invalid")
            );
            assert_eq!(err.reason(), Some(Reason::MethodNotAllowedForConsumer));
        }
    }
    // Even when the host lists HMAC for it by mistake.
    let mut careless = Consumer::rsa("careless", key().public_key(), "Careless").two_legged(true);
    careless.signature_methods.push(SignatureMethod::HmacSha1);
    s.provider.consumers().register(careless);
    let request = s.signed(
        Signer::new(SignatureMethod::HmacSha1, "careless", ""),
        "GET",
        &url,
        None,
    );
    assert!(s.provider.authenticate(&request.view()).await.is_err());
}

#[tokio::test]
async fn rsa_refusals() {
    let s = site(consumers(), all_methods());
    let url = format!("{ORIGIN}/api/whoami");
    let check = |request: OwnedRequest, status: u16, problem: &'static str| {
        let provider = &s.provider;
        async move {
            let err = provider.authenticate(&request.view()).await.unwrap_err();
            assert_eq!(
                (err.status(), err.problem().unwrap().code()),
                (status, problem),
                "{err:?}"
            );
            err
        }
    };
    // Signed with another key.
    let wrong = Signer::new(SignatureMethod::RsaSha1, "rsa-app", "").rsa_key(other_key());
    check(s.signed(wrong, "GET", &url, None), 401, "signature_invalid").await;
    // An HMAC consumer cannot switch to RSA (no key: a dummy key does the work).
    let hmac = Signer::new(SignatureMethod::RsaSha256, "hmac-app", "").rsa_key(key());
    let err = check(s.signed(hmac, "GET", &url, None), 401, "signature_invalid").await;
    assert_eq!(err.reason(), Some(Reason::BadSignature));
    // Unknown consumer: the same answer.
    let unknown = Signer::new(SignatureMethod::RsaSha1, "nobody", "").rsa_key(key());
    let err = check(
        s.signed(unknown, "GET", &url, None),
        401,
        "signature_invalid",
    )
    .await;
    assert_eq!(err.reason(), Some(Reason::UnknownConsumer));
    // A provider that does not accept RSA at all.
    let hmac_only = site(consumers(), oauth1_provider::ProviderConfig::default());
    let mut config = oauth1_provider::ProviderConfig::default();
    config.signature_methods = vec![SignatureMethod::HmacSha1];
    let hmac_only = crate::support::breadth::Site {
        provider: Provider::new(MemoryStore::new(), MemoryStore::new(), consumers(), config)
            .with_clock(hmac_only.clock.clone()),
        clock: hmac_only.clock,
    };
    let request = hmac_only.signed(rsa_signer(SignatureMethod::RsaSha1), "GET", &url, None);
    let err = hmac_only
        .provider
        .authenticate(&request.view())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.problem().unwrap().code()),
        (400, "signature_method_rejected")
    );
    // A consumer limited to RSA-SHA256 refuses RSA-SHA1.
    s.provider.consumers().register(
        Consumer::rsa("sha256-only", key().public_key(), "Strict")
            .signature_methods([SignatureMethod::RsaSha256])
            .two_legged(true),
    );
    let sha1 = Signer::new(SignatureMethod::RsaSha1, "sha256-only", "").rsa_key(key());
    check(
        s.signed(sha1, "GET", &url, None),
        400,
        "signature_method_rejected",
    )
    .await;
    // A garbage signature.
    let mut request = s.signed(rsa_signer(SignatureMethod::RsaSha1), "GET", &url, None);
    let header = request.authorization.take().unwrap();
    let start = header.find("oauth_signature=\"").unwrap() + "oauth_signature=\"".len();
    let end = start + header[start..].find('"').unwrap();
    request.authorization = Some(format!("{}AAAA{}", &header[..start], &header[end..]));
    check(request, 401, "signature_invalid").await;
}

#[tokio::test]
async fn rsa_request_token_endpoint_refusal_is_reported() {
    let s = site(consumers(), all_methods());
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let wrong = Signer::new(SignatureMethod::RsaSha1, "rsa-app", "")
        .rsa_key(other_key())
        .callback("oob");
    let request = s.signed(wrong, "POST", &url, None);
    assert_refused(
        &s.provider.request_token(&request.view()).await,
        401,
        "signature_invalid",
    );
    // Signing an RSA method without a key is a client-side error.
    let err = Signer::new(SignatureMethod::RsaSha1, "rsa-app", "")
        .authorization_header("GET", &url, None)
        .unwrap_err();
    assert_eq!(err, oauth1_provider::client::SignError::MissingKey);
}

#[test]
fn the_demo_serves_an_rsa_consumer_acting_for_a_user() {
    use crate::support::demo_process::DemoProcess;
    use crate::support::http::http;
    let pem = std::env::temp_dir().join(format!("oauth1-demo-rsa-{}.pem", std::process::id()));
    std::fs::write(&pem, key().public_key().to_pem()).unwrap();
    let rsa_flag = format!("printer:{}:Photo Printer", pem.display());
    let demo = DemoProcess::spawn(&[
        "--store",
        "memory",
        "--rsa-consumer",
        &rsa_flag,
        "--requestor-domain",
        "printer:example.com",
    ]);
    let host = demo.addr.to_string();
    let call = |requestor: &str, signer: Signer<'_>| {
        let target = format!(
            "/api/whoami?xoauth_requestor_id={}",
            oauth1_provider::protocol::percent_encode(requestor)
        );
        let header = signer
            .authorization_header("GET", &format!("{}{target}", demo.base_url()), None)
            .unwrap();
        http(
            demo.addr,
            "GET",
            &host,
            &target,
            &[("Authorization", &header)],
            b"",
        )
        .unwrap()
    };
    let printer = || Signer::new(SignatureMethod::RsaSha256, "printer", "").rsa_key(key());
    let ok = call("test@example.com", printer());
    assert_eq!(ok.status, 200, "{}", ok.text());
    let me: Value = serde_json::from_slice(&ok.body).unwrap();
    assert_eq!(me["email"], "test@example.com");
    assert_eq!(me["consumer_key"], "printer");
    // Another key, an HMAC signature, a user of another domain: refused.
    let wrong = call(
        "test@example.com",
        Signer::new(SignatureMethod::RsaSha256, "printer", "").rsa_key(other_key()),
    );
    assert_eq!(wrong.status, 401, "{}", wrong.text());
    let hmac = call(
        "test@example.com",
        Signer::new(SignatureMethod::HmacSha1, "printer", ""),
    );
    assert_eq!(hmac.status, 401, "{}", hmac.text());
    let elsewhere = call("someone@other.example", printer());
    assert_eq!(elsewhere.status, 401);
    assert!(
        elsewhere.text().contains("permission_denied"),
        "{}",
        elsewhere.text()
    );
    let log = demo.log();
    demo.stop();
    let _ = std::fs::remove_file(&pem);
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test]
async fn oauthlib_signs_rsa_requests_we_verify() {
    let s = site(consumers(), all_methods());
    let (token, secret) = s
        .three_legged(|| rsa_signer(SignatureMethod::RsaSha1), alice())
        .await;
    let pem = key().to_pem();
    for method in ["RSA-SHA1", "RSA-SHA256"] {
        let spec = serde_json::json!({
            "method": "GET",
            "url": format!("{ORIGIN}/photos?file=vacation%20photo.jpg&size=original"),
            "client_key": "rsa-app",
            "rsa_key": pem.as_str(),
            "signature_method": method,
            "resource_owner_key": token,
            "resource_owner_secret": secret,
            "timestamp": s.now().to_string(),
        });
        let Some(signed) = oauthlib_sign(&spec) else {
            return;
        };
        let request = from_oauthlib("GET", &signed);
        let context = s
            .provider
            .authenticate(&request.view())
            .await
            .unwrap_or_else(|e| panic!("{method}: {e:?} for {signed}"));
        assert_eq!(context.get_current_user().unwrap(), &alice());
        // Signed by oauthlib with a key that is not the registered one.
        let spec = serde_json::json!({
            "method": "GET",
            "url": format!("{ORIGIN}/photos"),
            "client_key": "rsa-app",
            "rsa_key": other_key().to_pem().as_str(),
            "signature_method": method,
            "timestamp": s.now().to_string(),
        });
        let request = from_oauthlib("GET", &oauthlib_sign(&spec).unwrap());
        let err = s.provider.authenticate(&request.view()).await.unwrap_err();
        assert_eq!(
            (err.status(), err.problem().unwrap().code()),
            (401, "signature_invalid")
        );
    }
}
