//! A small in-process site for the protocol-breadth tests (RSA, body hash,
//! sessions, two-legged): a provider on a memory store and a manual clock,
//! and the three-legged flow for any signer.

use oauth1_provider::store::{NonceStore, TokenStore};
use oauth1_provider::{
    ConsumerRegistry, ManualClock, MemoryStore, Provider, ProviderConfig, Response,
    SignatureMethod, Signer, User,
};

use crate::provider_flow::{START, approve_for_verifier, field};
use crate::support::OwnedRequest;

pub const ORIGIN: &str = "https://api.example.com";
pub const CALLBACK: &str = "https://client.example/cb";

pub struct Site<S = MemoryStore> {
    pub provider: Provider<S>,
    pub clock: ManualClock,
}

/// Every method this crate implements, RSA included.
pub fn all_methods() -> ProviderConfig {
    let mut config = ProviderConfig::default();
    config.signature_methods = SignatureMethod::ALL.to_vec();
    #[cfg(feature = "rsa")]
    config.signature_methods.extend(SignatureMethod::RSA);
    config
}

pub fn site(consumers: ConsumerRegistry, config: ProviderConfig) -> Site {
    site_on(MemoryStore::new(), consumers, config)
}

pub fn site_on<S: TokenStore + NonceStore + Clone>(
    store: S,
    consumers: ConsumerRegistry,
    config: ProviderConfig,
) -> Site<S> {
    let clock = ManualClock::at_unix(START);
    Site {
        provider: Provider::new(store.clone(), store, consumers, config).with_clock(clock.clone()),
        clock,
    }
}

impl<S: TokenStore + NonceStore> Site<S> {
    pub fn now(&self) -> u64 {
        u64::try_from(oauth1_provider::Clock::now(&self.clock).unix_timestamp()).unwrap()
    }

    /// `signer`'s request, timestamped by the site's clock, with an optional
    /// body of any content type (a form body is signed, others are not).
    pub fn signed(
        &self,
        signer: Signer<'_>,
        method: &str,
        url: &str,
        body: Option<(&str, &[u8])>,
    ) -> OwnedRequest {
        let form = body
            .filter(|(ct, _)| oauth1_provider::is_form_urlencoded(ct))
            .map(|(_, b)| b);
        let header = signer
            .timestamp(self.now())
            .authorization_header(method, url, form)
            .unwrap();
        let mut request = OwnedRequest::from_url(method, url, None);
        request.authorization = Some(header);
        if let Some((content_type, bytes)) = body {
            request.content_type = Some(content_type.to_owned());
            request.body = bytes.to_vec();
        }
        request
    }

    /// The three-legged flow with `signer()` as the consumer: the access
    /// token's (token, secret).
    pub async fn three_legged<'k>(
        &self,
        signer: impl Fn() -> Signer<'k>,
        user: User,
    ) -> (String, String) {
        let response = self.access_response(&signer, user).await;
        assert_eq!(response.status, 200, "{}", response.body);
        (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        )
    }

    /// The three-legged flow up to the access-token response.
    pub async fn access_response<'k>(
        &self,
        signer: &impl Fn() -> Signer<'k>,
        user: User,
    ) -> Response {
        let url = format!(
            "{ORIGIN}/_ah/OAuthGetRequestToken?scope=https%3A%2F%2Fapi.example.com%2Fphotos"
        );
        let request = self.signed(signer().callback(CALLBACK), "POST", &url, None);
        let response = self.provider.request_token(&request.view()).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let (token, secret) = (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        );
        let verifier = approve_for_verifier(&self.provider, ORIGIN, &token, user).await;
        let url = format!("{ORIGIN}/_ah/OAuthGetAccessToken");
        let request = self.signed(
            signer().token(&token, &secret).verifier(&verifier),
            "POST",
            &url,
            None,
        );
        self.provider.access_token(&request.view()).await
    }
}

/// Signs a request with Python oauthlib (`tests/clients/oauthlib_sign.py`,
/// run by `OAUTH1_TEST_PYTHON`): its `{uri, headers, body}`. `None`, with the
/// reason printed, when no such Python is configured — unless `CI` is set,
/// where that is a failure.
pub fn oauthlib_sign(spec: &serde_json::Value) -> Option<serde_json::Value> {
    use std::io::Write as _;
    let Some(python) = std::env::var_os("OAUTH1_TEST_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but OAUTH1_TEST_PYTHON is not: create the venv with .ci/python-venv.sh"
        );
        eprintln!(
            "skipped: OAUTH1_TEST_PYTHON is not set (a Python with tests/clients/requirements.txt, \
             e.g. target/ci-venv/bin/python)"
        );
        return None;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/oauthlib_sign.py"
    );
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run OAUTH1_TEST_PYTHON");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oauthlib_sign.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("oauthlib_sign.py prints JSON"))
}

/// The request oauthlib signed, as the provider receives it.
pub fn from_oauthlib(method: &str, signed: &serde_json::Value) -> OwnedRequest {
    let mut request = OwnedRequest::from_url(method, signed["uri"].as_str().unwrap(), None);
    let headers = signed["headers"].as_object().unwrap();
    request.authorization = headers
        .get("Authorization")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    request.content_type = headers
        .get("Content-Type")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    if let Some(body) = signed["body"].as_str() {
        request.body = body.as_bytes().to_vec();
    }
    request
}

/// Asserts a refusal with this status and `oauth_problem`; returns it.
#[track_caller]
pub fn refused(
    result: Result<oauth1_provider::OAuthContext, oauth1_provider::OAuthError>,
    status: u16,
    problem: &str,
) -> oauth1_provider::OAuthError {
    let err = result.expect_err("expected a refusal");
    assert_eq!(
        (err.status(), err.problem().map(|p| p.code())),
        (status, Some(problem)),
        "{err:?}"
    );
    err
}
