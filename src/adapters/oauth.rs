//! [`OAuth`], the adapter for a [`Provider`]: one builder for every
//! framework. Its configuration (origins, TLS, paths) is here; each
//! framework module adds the methods that build its routes and its
//! verifying layer or middleware.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

use crate::adapters::authorize::{AuthorizeMode, AuthorizeRequest, EndpointPaths, SignedIn, step};
use crate::adapters::grant::RequireGrant;
use crate::adapters::head::{BodyPlan, RequestHead, Site, misdirected};
use crate::adapters::origin::{OriginError, OriginPolicy, ResolvedOrigin};
use crate::adapters::pages::{AuthorizePage, MAX_CONSENT_FORM_BYTES};
use crate::adapters::verdict::Verifier;
use crate::protocol::response::Response;
use crate::provider::Provider;
use crate::store::{NonceStore, TokenStore};

/// Which token endpoint a route serves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenEndpoint {
    /// Temporary credentials (§2.1).
    Request,
    /// Token credentials (§2.3).
    Access,
    /// The identity endpoint ([`Provider::identify`]).
    Identify,
}

/// The adapter for a [`Provider`]: builds the endpoints (axum's `router`,
/// actix-web's `endpoints`), the verifying layer (axum's `layer`,
/// actix-web's `middleware`) and the per-route grant checks
/// ([`OAuth::require_grant`]). Cheap to clone.
pub struct OAuth<S, N = S> {
    pub(crate) provider: Arc<Provider<S, N>>,
    pub(crate) site: Site,
    pub(crate) paths: EndpointPaths,
}

impl<S, N> Clone for OAuth<S, N> {
    fn clone(&self) -> Self {
        Self {
            provider: self.provider.clone(),
            site: self.site.clone(),
            paths: self.paths.clone(),
        }
    }
}

impl<S, N> std::fmt::Debug for OAuth<S, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("origins", &self.site.origins)
            .field("https", &self.site.https)
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> OAuth<S, N> {
    /// An adapter for `provider` (a `Provider` or an `Arc<Provider>`), with
    /// the default paths, over plain http, accepting the `Host` header as
    /// sent until [`OAuth::origins`] says which origins are served.
    pub fn new(provider: impl Into<Arc<Provider<S, N>>>) -> Self {
        Self {
            provider: provider.into(),
            site: Site::default(),
            paths: EndpointPaths::default(),
        }
    }

    /// The origins served and the proxies trusted. Defaults to
    /// [`OriginPolicy::default`]: any `Host`, no proxy.
    pub fn origins(mut self, policy: OriginPolicy) -> Self {
        self.site.origins = policy;
        self
    }

    /// Whether this server itself speaks TLS (e.g. axum-server with rustls;
    /// actix-web's own TLS is seen by itself). Defaults to false; behind a
    /// TLS-terminating proxy, trust the proxy in the [`OriginPolicy`]
    /// instead.
    pub fn https(mut self, https: bool) -> Self {
        self.site.https = https;
        self
    }

    /// Mounts the endpoints at these paths.
    pub fn paths(mut self, paths: EndpointPaths) -> Self {
        self.paths = paths;
        self
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<Provider<S, N>> {
        &self.provider
    }

    /// The endpoint paths.
    pub fn endpoint_paths(&self) -> &EndpointPaths {
        &self.paths
    }

    /// A [`RequireGrant`] for `grant`, checked now against the grants the
    /// provider declares ([`ProviderConfig::grants`], or `identity`): a
    /// typo panics while the routes are built, not with a 500 at the first
    /// request ([`RequireGrant::new`] can only check the name's form).
    ///
    /// # Panics
    ///
    /// When the provider does not declare `grant`.
    ///
    /// [`ProviderConfig::grants`]: crate::ProviderConfig::grants
    pub fn require_grant(&self, grant: &str) -> RequireGrant {
        assert!(
            self.provider.config().declares_grant(grant),
            "OAuth::require_grant: {grant:?} is not a grant the provider declares \
             (ProviderConfig::grants)"
        );
        RequireGrant::new(grant)
    }

    /// The origin `request` (axum's `http::request::Parts`, actix-web's
    /// `HttpRequest`) was addressed to, by the configured policy.
    pub fn resolve_origin(
        &self,
        request: &impl RequestHead,
    ) -> Result<ResolvedOrigin, OriginError> {
        self.site.resolve(request)
    }

    /// What the verifying layer or middleware shares with every request.
    pub(crate) fn verifier(&self) -> Arc<Verifier> {
        Arc::new(Verifier::new(&self.provider, &self.site))
    }

    /// A token endpoint's answer to `head`: its origin resolved (400 when
    /// not served here), the body `read` as planned (413, 400), then the
    /// provider's answer.
    pub(crate) async fn token_endpoint<F>(
        &self,
        which: TokenEndpoint,
        head: &impl RequestHead,
        has_body: bool,
        read: impl FnOnce(BodyPlan, usize) -> F,
    ) -> Response
    where
        F: Future<Output = Result<Bytes, Response>>,
    {
        let origin = match self.site.resolve(head) {
            Ok(origin) => origin,
            Err(e) => return misdirected(&e),
        };
        let limit = self.provider.config().limits.max_form_body_bytes;
        let form = match read(BodyPlan::of(head, has_body, limit, true), limit).await {
            Ok(form) => form,
            Err(response) => return response,
        };
        let target = origin.public_target(head.target());
        let view = head.view(&origin, &target, &form);
        match which {
            TokenEndpoint::Request => self.provider.request_token(&view).await,
            TokenEndpoint::Access => self.provider.access_token(&view).await,
            TokenEndpoint::Identify => self.provider.identify(&view).await,
        }
    }

    /// The authorize endpoint's answer to `head` (§2.2) — or, in
    /// [`AuthorizeMode::SignIn`], the authenticate endpoint's: its origin
    /// resolved, a posted consent form `read` (at most
    /// [`MAX_CONSENT_FORM_BYTES`]), then the authorize step with the host's
    /// `signed_in` and `render`. `Err` is the host's own answer for a
    /// visitor who is not signed in, to send with the page security headers.
    pub(crate) async fn authorize_endpoint<F, G, Fut, E>(
        &self,
        mode: AuthorizeMode,
        head: &impl RequestHead,
        has_body: bool,
        read: impl FnOnce(BodyPlan, usize) -> F,
        signed_in: G,
        render: impl Fn(&AuthorizePage<'_>) -> Response,
    ) -> Result<Response, E>
    where
        F: Future<Output = Result<Bytes, Response>>,
        G: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<SignedIn, E>>,
    {
        let origin = match self.site.resolve(head) {
            Ok(origin) => origin,
            Err(e) => return Ok(misdirected(&e)),
        };
        let posted = head.method().eq_ignore_ascii_case("POST");
        let plan = BodyPlan::of(head, posted && has_body, MAX_CONSENT_FORM_BYTES, false);
        let form = match read(plan, MAX_CONSENT_FORM_BYTES).await {
            Ok(form) => form,
            Err(response) => return Ok(response),
        };
        let target = origin.public_target(head.target());
        let request = AuthorizeRequest::of(head, &origin, &target, &form);
        step(mode, &self.provider, request, signed_in, render).await
    }
}

#[cfg(test)]
mod tests {
    use super::OAuth;
    use crate::adapters::grant::RequireGrant;
    use crate::model::{ConsumerRegistry, Grant};
    use crate::provider::{Provider, ProviderConfig};
    use crate::store::MemoryStore;

    fn oauth() -> OAuth<MemoryStore> {
        let config = ProviderConfig {
            grants: vec![Grant::new("photos.read", "See your photos")],
            ..ProviderConfig::default()
        };
        let store = MemoryStore::new();
        OAuth::new(Provider::new(
            store.clone(),
            store,
            ConsumerRegistry::new(),
            config,
        ))
    }

    #[test]
    fn the_adapter_checks_a_name_against_the_declared_grants() {
        assert_eq!(oauth().require_grant("photos.read").grant(), "photos.read");
        assert_eq!(oauth().require_grant("identity").grant(), "identity");
        let typo = std::panic::catch_unwind(|| oauth().require_grant("photos.raed"));
        assert!(
            typo.is_err(),
            "an undeclared grant panics while routes are built"
        );
    }

    #[test]
    #[should_panic(expected = "not a valid grant name")]
    fn a_malformed_name_panics() {
        let _ = RequireGrant::new("photos read");
    }
}
