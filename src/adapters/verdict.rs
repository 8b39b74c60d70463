//! The verdict on a request under an adapter's verifying layer or
//! middleware, and what the extractors hand handlers: computed on first use
//! (so routes that never ask cost no store call and use no nonce), shared by
//! every extractor that asks meanwhile, kept for the rest of the request.
//! The framework extractors only find the [`Verdict`] in their request's
//! extensions and convert [`OAuthRejection`] into their response type.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;

use crate::adapters::grant::RequireGrant;
use crate::adapters::head::{RequestHead, Site, plain};
use crate::adapters::origin::ResolvedOrigin;
use crate::adapters::signed::{SignedParts, carries_oauth_credentials};
use crate::model::user::User;
use crate::protocol::error::ProtocolError;
use crate::protocol::request::Request;
use crate::protocol::response::Response;
use crate::provider::Provider;
use crate::provider::context::{OAuthContext, OAuthError, Reason};
use crate::store::{NonceStore, TokenStore};

type Authentication<'a> =
    Pin<Box<dyn Future<Output = Result<OAuthContext, OAuthError>> + Send + 'a>>;

/// Authenticates a request on a type-erased provider.
pub(crate) trait Authenticate: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, request: &'a Request<'a>) -> Authentication<'a>;

    fn is_development(&self) -> bool;

    /// Whether the provider declares the grant `name`.
    fn declares_grant(&self, name: &str) -> bool;

    /// Records a refusal for a grant the authenticated request lacks.
    fn grant_refused(&self, error: &OAuthError, context: &OAuthContext, peer: Option<IpAddr>);
}

impl<S: TokenStore + 'static, N: NonceStore + 'static> Authenticate for Provider<S, N> {
    fn authenticate<'a>(&'a self, request: &'a Request<'a>) -> Authentication<'a> {
        // Borrowed, not moved in: the boxed future is only the provider's,
        // small enough for the allocator's per-thread cache.
        Box::pin(Provider::authenticate(self, request))
    }

    fn is_development(&self) -> bool {
        Provider::is_development(self)
    }

    fn declares_grant(&self, name: &str) -> bool {
        self.config().declares_grant(name)
    }

    fn grant_refused(&self, error: &OAuthError, context: &OAuthContext, peer: Option<IpAddr>) {
        self.record_grant_refusal(error, context, peer);
    }
}

/// What a verifying layer or middleware shares with every request.
pub(crate) struct Verifier {
    pub(crate) authenticator: Arc<dyn Authenticate>,
    pub(crate) realm: Arc<str>,
    pub(crate) site: Site,
    pub(crate) body_limit: usize,
}

impl Verifier {
    pub(crate) fn new<S, N>(provider: &Arc<Provider<S, N>>, site: &Site) -> Self
    where
        S: TokenStore + 'static,
        N: NonceStore + 'static,
    {
        Self {
            authenticator: provider.clone(),
            realm: provider.config().realm.as_str().into(),
            site: site.clone(),
            body_limit: provider.config().limits.max_form_body_bytes,
        }
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("origins", &self.site.origins)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

type Verification = Pin<Box<dyn Future<Output = Result<Arc<OAuthContext>, OAuthError>> + Send>>;

/// Where the request's verification is: not asked yet, running (shared by
/// every extractor that asks meanwhile), or done.
enum State {
    NotAsked(Box<SignedParts>),
    Running(Verification),
    Done(Result<Arc<OAuthContext>, OAuthError>),
    /// Only while moving from `NotAsked` to `Running`.
    Moving,
}

/// The tasks waiting on a verdict being computed.
#[derive(Default)]
struct Waiting(Mutex<Vec<Waker>>);

impl Waiting {
    fn add(&self, waker: &Waker) {
        let mut waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !waiting.iter().any(|w| w.will_wake(waker)) {
            waiting.push(waker.clone());
        }
    }
}

impl Wake for Waiting {
    fn wake(self: Arc<Self>) {
        Wake::wake_by_ref(&self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiting = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        waiting.into_iter().for_each(Waker::wake);
    }
}

struct Inner {
    authenticator: Arc<dyn Authenticate>,
    realm: Arc<str>,
    /// Whether the request carries OAuth credentials at all.
    signed: bool,
    /// Whether a `RequireGrant` on the route found its grant granted.
    grant_checked: AtomicBool,
    /// The client's address, for the audit trail of a grant refusal.
    peer: Option<IpAddr>,
    state: Mutex<State>,
    waiting: Arc<Waiting>,
}

/// The request's OAuth verdict, computed on first use and kept in the
/// request's extensions.
#[derive(Clone)]
pub(crate) struct Verdict(Arc<Inner>);

impl Verdict {
    pub(crate) fn new(
        verifier: &Verifier,
        head: &impl RequestHead,
        origin: &ResolvedOrigin,
        form: Bytes,
    ) -> Self {
        let parts = SignedParts::new(
            head.method(),
            origin,
            &origin.public_target(head.target()),
            head.header("authorization"),
            head.header("content-type"),
            form,
            head.peer(),
        );
        let signed = verifier.authenticator.is_development()
            || carries_oauth_credentials(parts.authorization(), parts.query(), Some(parts.form()));
        Self(Arc::new(Inner {
            authenticator: verifier.authenticator.clone(),
            realm: verifier.realm.clone(),
            signed,
            grant_checked: AtomicBool::new(false),
            peer: head.peer(),
            state: Mutex::new(State::NotAsked(Box::new(parts))),
            waiting: Arc::default(),
        }))
    }

    /// Whether the request carries OAuth credentials at all.
    pub(crate) fn signed(&self) -> bool {
        self.0.signed
    }

    fn poll_verdict(&self, cx: &mut Context<'_>) -> Poll<Result<Arc<OAuthContext>, OAuthError>> {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match &mut *state {
                State::Done(result) => return Poll::Ready(result.clone()),
                State::NotAsked(_) => {
                    let State::NotAsked(parts) = std::mem::replace(&mut *state, State::Moving)
                    else {
                        unreachable!("matched above")
                    };
                    let authenticator = self.0.authenticator.clone();
                    let future = Box::pin(async move {
                        let request = parts.request();
                        authenticator.authenticate(&request).await.map(Arc::new)
                    });
                    *state = State::Running(future);
                }
                State::Running(future) => {
                    // Polled with a waker that wakes every task waiting on
                    // this verdict, so none is lost when the task that polled
                    // last goes away before it is done.
                    self.0.waiting.add(cx.waker());
                    let waker = Waker::from(self.0.waiting.clone());
                    return match future.as_mut().poll(&mut Context::from_waker(&waker)) {
                        Poll::Ready(result) => {
                            *state = State::Done(result.clone());
                            drop(state);
                            Wake::wake_by_ref(&self.0.waiting);
                            Poll::Ready(result)
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
                State::Moving => unreachable!("never observed outside poll_verdict"),
            }
        }
    }

    /// The verdict for a handler's extractor: refused as the provider says;
    /// and a token limited to grants is refused (403 `permission_denied`)
    /// on a route that required none of them (no `RequireGrant` passed), so
    /// that a route nobody annotated is not open to every app the user
    /// allowed anything — only whole-app tokens use such a route.
    pub(crate) async fn for_handler(&self) -> Result<Arc<OAuthContext>, OAuthRejection> {
        let context = self.get().await?;
        if context.grants().is_whole_app() || self.0.grant_checked.load(Ordering::Acquire) {
            return Ok(context);
        }
        Err(self.grant_rejection(
            &context,
            OAuthError::refused(
                ProtocolError::forbidden(
                    "this route is not marked with RequireGrant: only whole-app tokens may use it",
                ),
                Reason::GrantMissing,
            ),
        ))
    }

    /// The refusal of an authenticated request for a grant it lacks,
    /// recorded in the provider's audit trail (the provider answered it
    /// authenticated, and never sees this refusal otherwise).
    fn grant_rejection(&self, context: &OAuthContext, error: OAuthError) -> OAuthRejection {
        self.0
            .authenticator
            .grant_refused(&error, context, self.0.peer);
        self.rejection(error)
    }

    /// The verdict, computed by the first caller.
    pub(crate) async fn get(&self) -> Result<Arc<OAuthContext>, OAuthRejection> {
        std::future::poll_fn(|cx| self.poll_verdict(cx))
            .await
            .map_err(|e| self.rejection(e))
    }

    fn rejection(&self, error: OAuthError) -> OAuthRejection {
        OAuthRejection(Rejection::Refused {
            error,
            realm: self.0.realm.clone(),
        })
    }
}

/// The check behind the adapters' `RequireGrant`: the request's verdict
/// (computed now if no extractor asked yet, so the nonce is recorded for
/// an authentic request either way), then its grant. Refused when the
/// request is, 403 `permission_denied` when its token lacks `grant`, 500
/// when the route is not under the verifying layer or middleware or the
/// provider does not declare `grant`.
pub(crate) async fn require_grant(
    verdict: Option<Verdict>,
    required: &RequireGrant,
) -> Result<(), OAuthRejection> {
    let verdict = verdict.ok_or_else(OAuthRejection::not_verified)?;
    let grant = &*required.grant;
    if !verdict.0.authenticator.declares_grant(grant) {
        // A typo, or a grant the host forgot to declare: loud, for everyone.
        return Err(OAuthRejection(Rejection::UndeclaredGrant(grant.into())));
    }
    if required.or_unsigned && !verdict.signed() {
        // A visitor: the handler's optional extractor sees none.
        return Ok(());
    }
    let context = verdict.get().await?;
    context
        .require_grant(grant)
        .map_err(|e| verdict.grant_rejection(&context, e))?;
    verdict.0.grant_checked.store(true, Ordering::Release);
    Ok(())
}

/// The user behind a signed request with an access token (App Engine's
/// `get_current_user`), as a handler argument. Needs the adapter's
/// verifying layer (axum's `OAuth::layer`) or middleware (actix-web's
/// `OAuth::middleware`).
///
/// An unsigned or refused request gets the provider's 400/401/503 answer
/// with `WWW-Authenticate: OAuth realm="…", oauth_problem="…"`. In axum,
/// `Option<OAuthUser>` is `None` for a request carrying no OAuth credentials
/// at all, while one that carries them but is refused still gets the
/// refusal; actix-web's `MaybeOAuthUser` does the same.
///
/// A token limited to grants ([`crate::model::Granted::Only`]) is refused
/// with 403 `permission_denied` on a route that no `RequireGrant` passed:
/// a route that says nothing of grants is for whole-app tokens only, so
/// that one forgotten annotation does not open it to every app a user
/// allowed anything. `RequireGrant::new("identity")` opens a route to every
/// token (each has `identity`), for a handler that checks
/// [`OAuthUser::has_grant`] itself. The same holds for [`OAuthConsumer`].
#[derive(Debug, Clone)]
pub struct OAuthUser {
    /// A context with a user: checked when the extractor ran.
    context: Arc<OAuthContext>,
}

impl OAuthUser {
    /// The user behind `verdict`: refused when the request is, or has no
    /// user (a two-legged request).
    pub(crate) async fn from_verdict(
        verdict: Result<Verdict, OAuthRejection>,
    ) -> Result<Self, OAuthRejection> {
        let verdict = verdict?;
        let context = verdict.for_handler().await?;
        context
            .get_current_user()
            .map_err(|e| verdict.rejection(e))?;
        Ok(Self { context })
    }

    /// `None` for a request carrying no OAuth credentials at all; else as
    /// [`OAuthUser::from_verdict`].
    pub(crate) async fn maybe_from_verdict(
        verdict: Result<Verdict, OAuthRejection>,
    ) -> Result<Option<Self>, OAuthRejection> {
        match verdict {
            Ok(verdict) if !verdict.signed() => Ok(None),
            verdict => Self::from_verdict(verdict).await.map(Some),
        }
    }

    /// The user who authorized the token (App Engine's `get_current_user`).
    pub fn get_current_user(&self) -> &User {
        (self.context.user()).expect("an OAuthUser is only extracted with a user")
    }

    /// Whether the user is an admin of the host app.
    pub fn is_current_user_admin(&self) -> bool {
        self.get_current_user().admin
    }

    /// Whether the token was granted `grant`
    /// ([`OAuthContext::has_grant`]); for a route that needs it whatever
    /// the handler does, use the adapter's `RequireGrant`.
    pub fn has_grant(&self, grant: &str) -> bool {
        self.context.has_grant(grant)
    }

    /// The consumer key of the signed request.
    pub fn get_oauth_consumer_key(&self) -> &str {
        self.context.get_oauth_consumer_key()
    }

    /// The whole verdict (the access token used, …).
    pub fn context(&self) -> &OAuthContext {
        &self.context
    }
}

/// The consumer behind a signed request, with or without a user (a
/// two-legged request has none), as a handler argument. Needs the
/// adapter's verifying layer or middleware; refusals as for [`OAuthUser`].
#[derive(Debug, Clone)]
pub struct OAuthConsumer {
    context: Arc<OAuthContext>,
}

impl OAuthConsumer {
    /// The consumer behind `verdict`: refused when the request is.
    pub(crate) async fn from_verdict(
        verdict: Result<Verdict, OAuthRejection>,
    ) -> Result<Self, OAuthRejection> {
        Ok(Self {
            context: verdict?.for_handler().await?,
        })
    }

    /// The consumer key of the signed request.
    pub fn get_oauth_consumer_key(&self) -> &str {
        self.context.get_oauth_consumer_key()
    }

    /// The user who authorized the token (App Engine's `get_current_user`,
    /// as [`OAuthContext::get_current_user`]); a two-legged request has none:
    /// `NotAllowed`.
    pub fn get_current_user(&self) -> Result<&User, OAuthError> {
        self.context.get_current_user()
    }

    /// The whole verdict.
    pub fn context(&self) -> &OAuthContext {
        &self.context
    }
}

/// Why [`OAuthUser`] or [`OAuthConsumer`] could not be extracted: the
/// provider refused the request (answered as it says), or the route is not
/// under the adapter's verifying layer or middleware (500, a bug in the
/// host).
#[derive(Debug)]
pub struct OAuthRejection(Rejection);

#[derive(Debug)]
enum Rejection {
    Refused {
        error: OAuthError,
        realm: Arc<str>,
    },
    NotVerified,
    /// A `RequireGrant` names a grant the provider does not declare.
    UndeclaredGrant(Arc<str>),
}

impl OAuthRejection {
    /// The route is not under the verifying layer or middleware.
    pub(crate) fn not_verified() -> Self {
        Self(Rejection::NotVerified)
    }

    /// The provider's refusal; `None` when the layer or middleware is missing.
    pub fn error(&self) -> Option<&OAuthError> {
        match &self.0 {
            Rejection::Refused { error, .. } => Some(error),
            Rejection::NotVerified | Rejection::UndeclaredGrant(_) => None,
        }
    }

    /// The answer's status.
    #[cfg(feature = "actix")]
    pub(crate) fn status(&self) -> u16 {
        match &self.0 {
            Rejection::Refused { error, .. } => error.status(),
            Rejection::NotVerified | Rejection::UndeclaredGrant(_) => 500,
        }
    }

    /// The answer: the provider's refusal (with `WWW-Authenticate`), or 500.
    pub(crate) fn to_response(&self) -> Response {
        match &self.0 {
            Rejection::Refused { error, realm } => error.to_response(realm),
            Rejection::NotVerified => {
                tracing::error!(
                    "OAuthUser/OAuthConsumer used on a route without the OAuth layer or \
                     middleware; add it"
                );
                plain(500, "The server is misconfigured.")
            }
            Rejection::UndeclaredGrant(grant) => {
                tracing::error!(
                    grant = ?grant,
                    "RequireGrant names a grant the provider does not declare; \
                     add it to ProviderConfig::grants"
                );
                plain(500, "The server is misconfigured.")
            }
        }
    }
}

impl std::fmt::Display for OAuthRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Rejection::Refused { error, .. } => std::fmt::Display::fmt(error, f),
            Rejection::NotVerified => {
                f.write_str("the route is not under the OAuth layer or middleware")
            }
            Rejection::UndeclaredGrant(grant) => {
                write!(
                    f,
                    "RequireGrant names {grant:?}, which the provider does not declare"
                )
            }
        }
    }
}

impl std::error::Error for OAuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Rejection::Refused { error, .. } => Some(error),
            Rejection::NotVerified | Rejection::UndeclaredGrant(_) => None,
        }
    }
}

#[cfg(all(test, feature = "axum"))]
mod tests {
    use super::*;
    use crate::model::grant::Granted;
    use crate::provider::context::Credentials;

    /// A provider whose verification waits until the test opens the gate.
    struct Gate(Mutex<Option<tokio::sync::oneshot::Receiver<()>>>);

    impl Authenticate for Gate {
        fn authenticate<'a>(&'a self, _: &'a Request<'a>) -> Authentication<'a> {
            let gate = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
            Box::pin(async move {
                if let Some(gate) = gate {
                    let _ = gate.await;
                }
                Ok(OAuthContext {
                    narrowed: None,
                    credentials: Credentials::Consumer {
                        consumer_key: "k".to_owned(),
                        user: None,
                        requestor_id: None,
                        granted: Granted::WholeApp,
                    },
                })
            })
        }

        fn is_development(&self) -> bool {
            false
        }

        fn declares_grant(&self, _: &str) -> bool {
            true
        }

        fn grant_refused(&self, _: &OAuthError, _: &OAuthContext, _: Option<IpAddr>) {}
    }

    /// Two tasks ask for one verdict; the one that polled last goes away
    /// before it is done. The other must still be woken and get it. On a
    /// current-thread runtime every step below is deterministic.
    #[tokio::test(flavor = "current_thread")]
    async fn a_waiting_task_is_woken_when_the_last_one_to_poll_is_gone() {
        let (open, gate) = tokio::sync::oneshot::channel();
        let verifier = Verifier {
            authenticator: Arc::new(Gate(Mutex::new(Some(gate)))),
            realm: "example".into(),
            site: Site::default(),
            body_limit: 1024,
        };
        let (parts, ()) = http::Request::get("/x")
            .header("host", "example.com")
            .body(())
            .expect("a request")
            .into_parts();
        let origin = verifier.site.resolve(&parts).expect("an origin");
        let verdict = Verdict::new(&verifier, &parts, &origin, Bytes::new());
        let ask = |verdict: Verdict| async move { verdict.get().await.is_ok() };

        let first = tokio::spawn(ask(verdict.clone()));
        tokio::task::yield_now().await; // it starts the verification
        let last = tokio::spawn(ask(verdict.clone()));
        tokio::task::yield_now().await; // it polls the verification last
        last.abort();
        assert!(last.await.expect_err("aborted").is_cancelled());

        open.send(()).expect("the verification is waiting");
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(first.is_finished(), "the remaining task was woken");
        assert!(first.await.expect("it ran"), "and got the verdict");
    }
}
