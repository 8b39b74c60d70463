//! The provider in process: a [`Harness`] on a memory store (or any store)
//! and a manual clock, with our signer as the consumer, and the assertions
//! on what it answers.

use oauth1_provider::client::Signer;
use oauth1_provider::model::ManualClock;
use oauth1_provider::store::{NonceStore, TokenStore};
use oauth1_provider::{
    Approval, Consumer, ConsumerRegistry, MemoryStore, OAuthError, Provider, ProviderConfig,
    Response, SignatureMethod, User,
};

use crate::support::request::OwnedRequest;

pub const START: i64 = 1_700_000_000;
pub const CONSUMER: (&str, &str) = ("client-key", "client-secret");
pub const CALLBACK: &str = "https://client.example/cb?state=xyz";
pub const ORIGIN: &str = "https://api.example.com";

pub struct Harness<S: TokenStore + NonceStore + Clone = MemoryStore> {
    pub provider: Provider<S>,
    pub clock: ManualClock,
    pub store: S,
}

pub fn consumers() -> ConsumerRegistry {
    let consumers = ConsumerRegistry::new();
    consumers.register(
        Consumer::new(CONSUMER.0, CONSUMER.1, "Client App")
            .callback_prefix("https://client.example/cb"),
    );
    consumers.register(Consumer::new("robot", "robot-secret", "Robot").two_legged(true));
    consumers.register(
        Consumer::new("plain", "plain-secret", "Plain")
            .signature_methods([SignatureMethod::Plaintext]),
    );
    consumers.allow_anonymous();
    consumers
}

pub fn harness() -> Harness {
    harness_on(MemoryStore::new())
}

pub fn harness_on<S: TokenStore + NonceStore + Clone>(store: S) -> Harness<S> {
    let clock = ManualClock::at_unix(START);
    let mut config = ProviderConfig::default();
    config.signature_methods = SignatureMethod::ALL.to_vec();
    // These flows authorize one app for one user many times and use every
    // grant, as separate devices would; `provider_flow::stored_consumers`
    // tests the default, one grant per user and app.
    config.replace_earlier_grants = false;
    let provider =
        Provider::new(store.clone(), store.clone(), consumers(), config).with_clock(clock.clone());
    Harness {
        provider,
        clock,
        store,
    }
}

impl<S: TokenStore + NonceStore + Clone> Harness<S> {
    pub fn now(&self) -> u64 {
        u64::try_from(oauth1_provider::model::Clock::now(&self.clock).unix_timestamp()).unwrap()
    }

    /// A request signed by `signer` (timestamp from the harness clock).
    pub fn signed(&self, signer: Signer<'_>, method: &str, url: &str) -> OwnedRequest {
        self.signed_at(signer, method, url, self.now())
    }

    /// A request signed by `signer` with `timestamp`.
    pub fn signed_at(
        &self,
        signer: Signer<'_>,
        method: &str,
        url: &str,
        timestamp: u64,
    ) -> OwnedRequest {
        let header = signer
            .timestamp(timestamp)
            .authorization_header(method, url, None)
            .unwrap();
        let mut request = OwnedRequest::from_url(method, url, None);
        request.authorization = Some(header);
        request
    }

    pub fn consumer(&self) -> Signer<'static> {
        Signer::new(SignatureMethod::HmacSha1, CONSUMER.0, CONSUMER.1)
    }

    pub async fn request_token_on(&self, origin: &str, callback: &str) -> (String, String) {
        let url = format!("{origin}/_ah/OAuthGetRequestToken");
        let request = self.signed(self.consumer().callback(callback), "POST", &url);
        let response = self.provider.request_token(&request.view()).await;
        assert_eq!(response.status, 200, "{}", response.body);
        (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        )
    }

    /// Request token, approval by `user`: (token, secret, verifier).
    pub async fn approved_on(&self, origin: &str, user: User) -> (String, String, String) {
        let (token, secret) = self.request_token_on(origin, CALLBACK).await;
        let verifier = approve_for_verifier(&self.provider, origin, &token, user).await;
        (token, secret, verifier)
    }

    pub async fn exchange_on(
        &self,
        origin: &str,
        token: &str,
        secret: &str,
        verifier: &str,
    ) -> Response {
        let url = format!("{origin}/_ah/OAuthGetAccessToken");
        let signer = self.consumer().token(token, secret).verifier(verifier);
        let request = self.signed(signer, "POST", &url);
        self.provider.access_token(&request.view()).await
    }

    /// The whole flow for `user` on `origin`: access token and secret.
    pub async fn access_on(&self, origin: &str, user: User) -> (String, String) {
        let (token, secret, verifier) = self.approved_on(origin, user).await;
        let response = self.exchange_on(origin, &token, &secret, &verifier).await;
        assert_eq!(response.status, 200, "{}", response.body);
        (
            field(&response, "oauth_token"),
            field(&response, "oauth_token_secret"),
        )
    }

    /// How many grants `user` has made (the account page's list).
    pub async fn grants(&self, user: &User) -> usize {
        self.provider
            .authorizations(&user.user_id)
            .await
            .unwrap()
            .len()
    }

    pub async fn call(
        &self,
        url: &str,
        token: &str,
        secret: &str,
    ) -> Result<oauth1_provider::OAuthContext, OAuthError> {
        let request = self.signed(self.consumer().token(token, secret), "GET", url);
        self.provider.authenticate(&request.view()).await
    }
}

pub fn alice() -> User {
    User::new("alice@example.com", "1001").admin(true)
}

pub fn field(response: &Response, name: &str) -> String {
    response
        .form_fields()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {}", response.body))
}

/// `user` approves `token` on `origin`'s authorize page: the verifier the
/// callback redirect carries.
pub async fn approve_for_verifier<S: TokenStore, N: NonceStore>(
    provider: &Provider<S, N>,
    origin: &str,
    token: &str,
    user: User,
) -> String {
    let page = OwnedRequest::from_url("GET", &format!("{origin}/_ah/OAuthAuthorizeToken"), None);
    let Approval::Redirect(url) = provider.approve(&page.view(), token, user).await.unwrap() else {
        panic!("expected a redirect");
    };
    url_param(&url, "oauth_verifier")
}

pub fn url_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    oauth1_provider::protocol::parse_form(query)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

#[track_caller]
pub fn assert_refused(response: &Response, status: u16, problem: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(
        oauth1_provider::protocol::parse_form(&response.body)
            .into_iter()
            .find(|(n, _)| n == "oauth_problem")
            .map(|(_, v)| v)
            .as_deref(),
        Some(problem),
        "{}",
        response.body
    );
    let challenge = response
        .header("www-authenticate")
        .expect("WWW-Authenticate");
    assert!(
        challenge.contains(&format!("oauth_problem=\"{problem}\"")),
        "{challenge}"
    );
}

/// Asserts a refusal with this status and `oauth_problem`; returns it.
#[track_caller]
pub fn refused(
    result: Result<oauth1_provider::OAuthContext, OAuthError>,
    status: u16,
    problem: &str,
) -> OAuthError {
    let err = result.expect_err("expected a refusal");
    assert_eq!(
        (err.status(), err.problem().map(|p| p.code())),
        (status, Some(problem)),
        "{err:?}"
    );
    err
}
