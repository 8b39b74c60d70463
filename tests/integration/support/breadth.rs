//! A small in-process site for the protocol-breadth tests (RSA, body hash,
//! sessions, two-legged): a provider on a memory store and a manual clock,
//! and the three-legged flow for any signer.

use oauth1_provider::client::Signer;
use oauth1_provider::model::ManualClock;
use oauth1_provider::store::{NonceStore, TokenStore};
use oauth1_provider::{
    ConsumerRegistry, MemoryStore, Provider, ProviderConfig, Response, SignatureMethod, User,
};

use crate::support::harness::{START, approve_for_verifier, field};
use crate::support::request::OwnedRequest;

pub const ORIGIN: &str = "https://api.example.com";
pub const CALLBACK: &str = "https://client.example/cb";
/// The `scope` the flows send unless told otherwise: App Engine's kind, a
/// URL that names no grant (recorded only, for consumers without grants).
pub const RECORDED_SCOPE: &str = "https://api.example.com/photos";

pub struct Site<S = MemoryStore> {
    pub provider: Provider<S>,
    pub clock: ManualClock,
}

/// Every method this crate implements, RSA included.
pub fn all_methods() -> ProviderConfig {
    let mut config = ProviderConfig::default();
    config.signature_methods = SignatureMethod::ALL.to_vec();
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
        u64::try_from(oauth1_provider::model::Clock::now(&self.clock).unix_timestamp()).unwrap()
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
            .filter(|(ct, _)| oauth1_provider::protocol::is_form_urlencoded(ct))
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
        self.three_legged_scoped(signer, user, Some(RECORDED_SCOPE))
            .await
    }

    /// [`Site::three_legged`] asking for `scope` (or none).
    pub async fn three_legged_scoped<'k>(
        &self,
        signer: impl Fn() -> Signer<'k>,
        user: User,
        scope: Option<&str>,
    ) -> (String, String) {
        let response = self.access_response_scoped(&signer, user, scope).await;
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
        self.access_response_scoped(signer, user, Some(RECORDED_SCOPE))
            .await
    }

    /// [`Site::access_response`] asking for `scope` (or none).
    pub async fn access_response_scoped<'k>(
        &self,
        signer: &impl Fn() -> Signer<'k>,
        user: User,
        scope: Option<&str>,
    ) -> Response {
        let query = scope.map_or(String::new(), |scope| {
            format!(
                "?scope={}",
                oauth1_provider::protocol::percent_encode(scope)
            )
        });
        let url = format!("{ORIGIN}/_ah/OAuthGetRequestToken{query}");
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
