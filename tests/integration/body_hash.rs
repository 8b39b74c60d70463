//! `oauth_body_hash` (the OAuth Request Body Hash draft): JSON bodies signed
//! through their hash with every hashing method, the refusals (status +
//! `oauth_problem`), the per-consumer "required" switch, and the axum and
//! actix-web layers buffering such bodies and handing them to the handler.

use std::sync::Arc;

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::body_hash;
use oauth1_provider::provider::Reason;
use oauth1_provider::{
    Consumer, ConsumerRegistry, MemoryStore, OAuthError, Provider, ProviderConfig, SignatureMethod,
};

use crate::support::breadth::{ORIGIN, Site, all_methods, site};
use crate::support::harness::{assert_refused, refused};
use crate::support::request::OwnedRequest;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
const BODY: &[u8] = br#"{"amount":"10.00","currency":"EUR"}"#;

fn consumers() -> ConsumerRegistry {
    let consumers = ConsumerRegistry::new();
    consumers.register(Consumer::new("lti", "lti-secret", "LTI Tool").two_legged(true));
    consumers.register(
        Consumer::new("strict", "strict-secret", "Payments")
            .two_legged(true)
            .require_body_hash(true)
            .signature_methods(SignatureMethod::ALL),
    );
    consumers
}

/// `key`'s request carrying `body` (of `content_type`) with `hash` as
/// `oauth_body_hash` (none when `None`).
fn request(
    s: &Site,
    (key, method): (&str, SignatureMethod),
    content_type: &str,
    body: &[u8],
    hash: Option<&str>,
) -> OwnedRequest {
    let secret = format!("{key}-secret");
    let mut signer = Signer::new(method, key, &secret);
    if let Some(hash) = hash {
        signer = signer.header_param("oauth_body_hash", hash);
    }
    s.signed(
        signer,
        "POST",
        &format!("{ORIGIN}/api/payments"),
        Some((content_type, body)),
    )
}

#[tokio::test]
async fn json_bodies_verify_with_the_methods_hash() {
    let s = site(consumers(), all_methods());
    for method in [
        SignatureMethod::HmacSha1,
        SignatureMethod::HmacSha256,
        SignatureMethod::HmacSha512,
    ] {
        let hash = body_hash(method, BODY).unwrap();
        let r = request(&s, ("lti", method), JSON, BODY, Some(&hash));
        let context = s.provider.authenticate(&r.view()).await.unwrap();
        assert_eq!(context.get_oauth_consumer_key(), "lti");
    }
    // No body at all hashes the empty string (a signed GET, say).
    let hash = body_hash(SignatureMethod::HmacSha1, b"").unwrap();
    let r = request(
        &s,
        ("lti", SignatureMethod::HmacSha1),
        JSON,
        b"",
        Some(&hash),
    );
    s.provider.authenticate(&r.view()).await.unwrap();
    // Without a hash, a non-form body is simply not covered (not required here).
    let r = request(&s, ("lti", SignatureMethod::HmacSha1), JSON, BODY, None);
    s.provider.authenticate(&r.view()).await.unwrap();
}

#[tokio::test]
async fn rsa_signed_json_bodies_verify() {
    let key = oauth1_provider::client::ConsumerPrivateKey::generate(1024).unwrap();
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::rsa("mc", key.public_key(), "MC")
            .two_legged(true)
            .require_body_hash(true),
    );
    let s = site(consumers, all_methods());
    for method in SignatureMethod::RSA {
        let hash = body_hash(method, BODY).unwrap();
        let signer = Signer::new(method, "mc", "")
            .rsa_key(&key)
            .header_param("oauth_body_hash", &hash);
        let r = s.signed(
            signer,
            "POST",
            &format!("{ORIGIN}/api/payments"),
            Some((JSON, BODY)),
        );
        s.provider.authenticate(&r.view()).await.unwrap();
        let mut tampered = s.signed(
            Signer::new(method, "mc", "")
                .rsa_key(&key)
                .header_param("oauth_body_hash", &hash),
            "POST",
            &format!("{ORIGIN}/api/payments"),
            Some((JSON, BODY)),
        );
        tampered.body = br#"{"amount":"99999.00","currency":"EUR"}"#.to_vec();
        let err = refused(
            s.provider.authenticate(&tampered.view()).await,
            401,
            "signature_invalid",
        );
        assert_eq!(err.reason(), Some(Reason::BodyHashMismatch));
    }
}

#[tokio::test]
async fn body_hash_refusals() {
    let s = site(consumers(), all_methods());
    let sha1 = body_hash(SignatureMethod::HmacSha1, BODY).unwrap();
    let lti = ("lti", SignatureMethod::HmacSha1);
    // A changed body.
    let mut r = request(&s, lti, JSON, BODY, Some(&sha1));
    r.body = b"{}".to_vec();
    let err = refused(
        s.provider.authenticate(&r.view()).await,
        401,
        "signature_invalid",
    );
    assert_eq!(err.reason(), Some(Reason::BodyHashMismatch));
    // The wrong hash for the method (SHA-1 with HMAC-SHA256).
    let r = request(
        &s,
        ("lti", SignatureMethod::HmacSha256),
        JSON,
        BODY,
        Some(&sha1),
    );
    refused(
        s.provider.authenticate(&r.view()).await,
        401,
        "signature_invalid",
    );
    // Garbage.
    let r = request(&s, lti, JSON, BODY, Some("not base64!"));
    refused(
        s.provider.authenticate(&r.view()).await,
        401,
        "signature_invalid",
    );
    // On a form-encoded body: 400, whatever the hash.
    let form_hash = body_hash(SignatureMethod::HmacSha1, b"a=1").unwrap();
    let r = request(&s, lti, FORM, b"a=1", Some(&form_hash));
    refused(
        s.provider.authenticate(&r.view()).await,
        400,
        "parameter_rejected",
    );
    // Twice (the parameter collection refuses any repeated oauth_*).
    let mut r = request(&s, lti, JSON, BODY, Some(&sha1));
    let header = r.authorization.take().unwrap();
    let encoded = oauth1_provider::protocol::percent_encode(&sha1);
    r.authorization = Some(format!("{header}, oauth_body_hash=\"{encoded}\""));
    refused(
        s.provider.authenticate(&r.view()).await,
        400,
        "parameter_rejected",
    );
    // With PLAINTEXT, which has no hash.
    let mut config = all_methods();
    config.signature_methods.push(SignatureMethod::Plaintext);
    let s2 = site(consumers(), config);
    s2.provider.consumers().register(
        Consumer::new("plain", "plain-secret", "Plain")
            .two_legged(true)
            .signature_methods([SignatureMethod::Plaintext]),
    );
    let r = request(
        &s2,
        ("plain", SignatureMethod::Plaintext),
        JSON,
        BODY,
        Some(&sha1),
    );
    refused(
        s2.provider.authenticate(&r.view()).await,
        400,
        "parameter_rejected",
    );
}

#[tokio::test]
async fn a_consumer_can_require_body_hashes() {
    let s = site(consumers(), all_methods());
    let strict = ("strict", SignatureMethod::HmacSha256);
    let r = request(&s, strict, JSON, BODY, None);
    let err = refused(
        s.provider.authenticate(&r.view()).await,
        400,
        "parameter_absent",
    );
    let OAuthError::Request(e) = &err else {
        panic!()
    };
    assert_eq!(
        e.protocol_error().missing_parameters(),
        &["oauth_body_hash"]
    );
    let response = err.to_response("");
    assert!(
        response
            .body
            .contains("oauth_parameters_absent=oauth_body_hash"),
        "{}",
        response.body
    );
    // With one, fine; a form body needs none (its parameters are signed).
    let hash = body_hash(SignatureMethod::HmacSha256, BODY).unwrap();
    let r = request(&s, strict, JSON, BODY, Some(&hash));
    s.provider.authenticate(&r.view()).await.unwrap();
    let r = request(&s, strict, FORM, b"amount=10", None);
    s.provider.authenticate(&r.view()).await.unwrap();
    // The token endpoints check it too.
    let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken");
    let r = s.signed(
        Signer::new(SignatureMethod::HmacSha256, "strict", "strict-secret").callback("oob"),
        "POST",
        &url,
        Some((JSON, BODY)),
    );
    assert_refused(
        &s.provider.request_token(&r.view()).await,
        400,
        "parameter_absent",
    );
}

// ------------------------------------------------------------ adapters

const ROBOT: (&str, &str) = ("lti", "lti-secret");

fn hashed_header(url: &str, body: &[u8]) -> String {
    Signer::new(SignatureMethod::HmacSha1, ROBOT.0, ROBOT.1)
        .body_hash(body)
        .authorization_header("POST", url, None)
        .unwrap()
}

fn real_time_provider() -> Arc<Provider<MemoryStore>> {
    let store = MemoryStore::new();
    Arc::new(Provider::new(
        store.clone(),
        store,
        consumers(),
        ProviderConfig::default(),
    ))
}

#[tokio::test]
async fn the_axum_layer_buffers_hashed_bodies_and_hands_them_back() {
    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::routing::post;
    use oauth1_provider::OriginPolicy;
    use oauth1_provider::axum::{OAuth, OAuthConsumer};
    use tower::ServiceExt as _;

    async fn echo(consumer: OAuthConsumer, body: Bytes) -> String {
        format!(
            "{}|{}",
            consumer.get_oauth_consumer_key(),
            String::from_utf8_lossy(&body)
        )
    }
    let oauth = OAuth::new(real_time_provider())
        .origins(OriginPolicy::public_origins(["http://api.example.com"]));
    let app = Router::new()
        .route("/echo", post(echo))
        .layer(oauth.layer());
    let send = |body: &'static [u8], header: String| {
        let app = app.clone();
        async move {
            let request = axum::http::Request::post("/echo")
                .header("host", "api.example.com")
                .header("content-type", JSON)
                .header("authorization", header)
                .body(Body::from(body))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        }
    };
    let url = "http://api.example.com/echo";
    let (status, text) = send(BODY, hashed_header(url, BODY)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, format!("lti|{}", String::from_utf8_lossy(BODY)));
    let (status, text) = send(b"{\"amount\":\"1\"}", hashed_header(url, BODY)).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("oauth_problem=signature_invalid"), "{text}");
    // Past the body limit: 413, nothing verified.
    let mut config = ProviderConfig::default();
    config.limits.max_form_body_bytes = 16;
    let store = MemoryStore::new();
    let small = OAuth::new(Provider::new(store.clone(), store, consumers(), config))
        .origins(OriginPolicy::public_origins(["http://api.example.com"]));
    let app = Router::new()
        .route("/echo", post(echo))
        .layer(small.layer());
    let request = axum::http::Request::post("/echo")
        .header("host", "api.example.com")
        .header("content-type", JSON)
        .header("authorization", hashed_header(url, BODY))
        .body(Body::from(BODY))
        .unwrap();
    assert_eq!(app.oneshot(request).await.unwrap().status().as_u16(), 413);
}

#[actix_web::test]
async fn the_actix_middleware_buffers_hashed_bodies_and_hands_them_back() {
    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    use actix_web::{App, web};
    use oauth1_provider::OriginPolicy;
    use oauth1_provider::actix::{OAuth, OAuthConsumer};

    async fn echo(consumer: OAuthConsumer, body: web::Bytes) -> String {
        format!(
            "{}|{}",
            consumer.get_oauth_consumer_key(),
            String::from_utf8_lossy(&body)
        )
    }
    let oauth = OAuth::new(real_time_provider())
        .origins(OriginPolicy::public_origins(["http://api.example.com"]));
    let service = init_service(
        App::new()
            .wrap(oauth.middleware())
            .route("/echo", web::post().to(echo)),
    )
    .await;
    let url = "http://api.example.com/echo";
    for (body, status) in [(BODY, 200), (&b"{}"[..], 401)] {
        let request = TestRequest::post()
            .uri("/echo")
            .insert_header(("host", "api.example.com"))
            .insert_header(("content-type", JSON))
            .insert_header(("authorization", hashed_header(url, BODY)))
            .set_payload(body.to_vec())
            .to_request();
        let response = call_service(&service, request).await;
        assert_eq!(response.status().as_u16(), status);
        let text = String::from_utf8(read_body(response).await.to_vec()).unwrap();
        if status == 200 {
            assert_eq!(text, format!("lti|{}", String::from_utf8_lossy(BODY)));
        }
    }
}

#[tokio::test]
async fn oauthlib_signed_json_bodies_verify() {
    let key = oauth1_provider::client::ConsumerPrivateKey::generate(1024).unwrap();
    let s = site(consumers(), all_methods());
    s.provider.consumers().register(
        Consumer::rsa("mc", key.public_key(), "MC")
            .two_legged(true)
            .require_body_hash(true),
    );
    let pem = key.to_pem();
    // (method, whose hash, accepted): oauthlib always sends SHA-1; the draft's
    // rule (and MasterCard's clients) use the method's hash.
    let cases = [
        ("lti", "HMAC-SHA1", "oauthlib", true),
        ("lti", "HMAC-SHA256", "method", true),
        ("mc", "RSA-SHA1", "oauthlib", true),
        ("mc", "RSA-SHA256", "method", true),
        ("mc", "RSA-SHA256", "oauthlib", false),
    ];
    for (consumer, method, hash, accepted) in cases {
        let spec = serde_json::json!({
            "method": "POST",
            "url": format!("{ORIGIN}/api/payments?v=2"),
            "headers": {"Content-Type": JSON},
            "body": std::str::from_utf8(BODY).unwrap(),
            "client_key": consumer,
            "client_secret": "lti-secret",
            "rsa_key": pem.as_str(),
            "signature_method": method,
            "timestamp": s.now().to_string(),
            "body_hash": hash,
        });
        let Some(signed) = crate::support::oauthlib::oauthlib_sign(&spec) else {
            return;
        };
        let mut request = crate::support::oauthlib::from_oauthlib("POST", &signed);
        assert!(
            request
                .authorization
                .as_deref()
                .unwrap()
                .contains("oauth_body_hash")
        );
        let result = s.provider.authenticate(&request.view()).await;
        assert_eq!(result.is_ok(), accepted, "{method} {hash}: {result:?}");
        if accepted {
            // The same signed request with another body is refused.
            request.body = b"{}".to_vec();
            refused(
                s.provider.authenticate(&request.view()).await,
                401,
                "signature_invalid",
            );
        }
    }
}

#[test]
fn the_demo_checks_body_hashes_when_asked() {
    use crate::support::demo_process::DemoProcess;
    use crate::support::http::http;
    let demo = DemoProcess::spawn(&[
        "--store",
        "memory",
        "--consumer",
        "lti:lti-secret:LTI Tool",
        "--requestor-domain",
        "lti:example.com",
        "--require-body-hash",
        "lti",
    ]);
    let host = demo.addr.to_string();
    let target = "/api/whoami?xoauth_requestor_id=test%40example.com";
    let url = format!("{}{target}", demo.base_url());
    let post = |header: String, body: &[u8]| {
        let headers = [("Authorization", header.as_str()), ("Content-Type", JSON)];
        http(demo.addr, "POST", &host, target, &headers, body).unwrap()
    };
    let ok = post(hashed_header(&url, BODY), BODY);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.text().contains("test@example.com"), "{}", ok.text());
    let tampered = post(hashed_header(&url, BODY), b"{}");
    assert_eq!(tampered.status, 401, "{}", tampered.text());
    let unhashed = Signer::new(SignatureMethod::HmacSha1, ROBOT.0, ROBOT.1)
        .authorization_header("POST", &url, None)
        .unwrap();
    let missing = post(unhashed, BODY);
    assert_eq!(missing.status, 400, "{}", missing.text());
    assert!(
        missing.text().contains("oauth_body_hash"),
        "{}",
        missing.text()
    );
    let log = demo.log();
    demo.stop();
    assert!(!log.contains("panicked"), "{log}");
}
