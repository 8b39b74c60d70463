//! The authorize endpoint (RFC 5849 §2.2) for every adapter: find the
//! request token, ask the host who is signed in, show the consent page, check
//! the CSRF token on the answer, approve or deny.

use std::fmt::Write as _;
use std::future::Future;

use subtle::ConstantTimeEq;

use crate::adapters::origin::ResolvedOrigin;
use crate::adapters::pages::{
    AuthorizeHints, AuthorizePage, CSRF_FIELD, ConsentPage, DECISION_FIELD, PageError, TOKEN_FIELD,
    with_page_security_headers,
};
use crate::model::user::User;
use crate::protocol::request::Request;
use crate::protocol::response::{Response, parse_form};
use crate::provider::authorize::{Approval, Denial};
use crate::provider::{Provider, normalized_host};
use crate::store::{NonceStore, TokenStore};

/// Whether `presented` is the session's CSRF token, compared in constant
/// time. An empty expected token never matches.
pub fn csrf_matches(expected: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(presented) if !expected.is_empty() => {
            bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
        }
        _ => false,
    }
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `decision=allow`.
    Allow,
    /// `decision=deny`.
    Deny,
}

impl Decision {
    /// Parses the [`DECISION_FIELD`] value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "allow" => Some(Self::Allow),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }
}
/// Where an adapter mounts the endpoints. Defaults to App Engine's paths,
/// and `/_ah/OAuthAuthenticate` and `/_ah/OAuthIdentify` beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPaths {
    /// Temporary credentials (§2.1). Defaults to `/_ah/OAuthGetRequestToken`.
    pub request_token: String,
    /// Resource owner authorization (§2.2). Defaults to `/_ah/OAuthAuthorizeToken`.
    pub authorize: String,
    /// Token credentials (§2.3). Defaults to `/_ah/OAuthGetAccessToken`.
    pub access_token: String,
    /// Authenticate-only sign-in: the authorize step, except that a user who
    /// already let a sign-in-only app sign her in is sent straight back to
    /// it ([`authenticate_step`]). Defaults to `/_ah/OAuthAuthenticate`.
    pub authenticate: String,
    /// The identity endpoint
    /// ([`Provider::identify`](crate::Provider::identify)). Defaults to
    /// `/_ah/OAuthIdentify`.
    pub identify: String,
}

impl Default for EndpointPaths {
    fn default() -> Self {
        Self {
            request_token: "/_ah/OAuthGetRequestToken".to_owned(),
            authorize: "/_ah/OAuthAuthorizeToken".to_owned(),
            access_token: "/_ah/OAuthGetAccessToken".to_owned(),
            authenticate: "/_ah/OAuthAuthenticate".to_owned(),
            identify: "/_ah/OAuthIdentify".to_owned(),
        }
    }
}

/// Which endpoint the authorize step runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthorizeMode {
    /// `/_ah/OAuthAuthorizeToken`: always asks.
    Authorize,
    /// `/_ah/OAuthAuthenticate`: approves a repeated sign-in at once
    /// ([`Provider::sign_in_again`]).
    SignIn,
}

/// Who is signed in on the consent page, as the host's login knows her
/// (RFC 5849 §2.2: the provider verifies the resource owner's identity).
/// `Debug` shows the user, never the CSRF token.
#[derive(Clone)]
pub struct SignedIn {
    /// The signed-in user: the one who approves.
    pub user: User,
    /// A secret bound to the user's session (random, unguessable, not the
    /// session id). The consent form carries it; an answer without it is
    /// refused with 403. An empty token refuses every answer.
    pub csrf_token: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("user", &self.user)
            .field("csrf_token", &"[redacted]")
            .finish()
    }
}

/// A request to the authorize endpoint (RFC 5849 §2.2), as an adapter
/// received it.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    /// The HTTP method; only a `POST` can carry a decision.
    pub method: &'a str,
    /// The origin the request was addressed to, from the adapter's
    /// [`OriginPolicy`](crate::OriginPolicy).
    pub origin: &'a ResolvedOrigin,
    /// The raw request target: path and query as the client sent them — as
    /// received, after the [`ResolvedOrigin::prefix`] a proxy stripped.
    pub target: &'a str,
    /// The `application/x-www-form-urlencoded` body of a `POST` (at most
    /// [`MAX_CONSENT_FORM_BYTES`](crate::consent::MAX_CONSENT_FORM_BYTES)); empty otherwise. Ignored unless the
    /// method is `POST`.
    pub form: &'a [u8],
    /// The request's `Sec-Fetch-Dest` header, if any. At the authenticate
    /// endpoint a sign-in is approved without a page only for a top-level
    /// navigation (`document`, or no header from an older browser), never
    /// for an image, a frame or a script that another site embeds.
    pub fetch_dest: Option<&'a str>,
}

#[cfg(any(feature = "axum", feature = "actix"))]
impl<'a> AuthorizeRequest<'a> {
    /// The request as an adapter received it, with the target its client
    /// sent ([`ResolvedOrigin::public_target`]).
    pub(crate) fn of(
        head: &'a impl crate::adapters::head::RequestHead,
        origin: &'a ResolvedOrigin,
        target: &'a str,
        form: &'a [u8],
    ) -> Self {
        Self {
            method: head.method(),
            origin,
            target,
            form,
            fetch_dest: head.header("sec-fetch-dest"),
        }
    }
}

/// Runs the authorize endpoint (RFC 5849 §2.2) for an adapter: finds the
/// request token (from the posted form, else the query), asks the host who
/// is signed in, and shows the consent page — or, for a posted answer with
/// the session's CSRF token, approves or denies and redirects to the
/// callback (303) or shows the `oob` page.
///
/// `signed_in` gets the path and query to come back to after a login
/// (`/_ah/OAuthAuthorizeToken?oauth_token=…`) and answers the signed-in user,
/// or the host's own response for a visitor who is not signed in, which this
/// returns as `Err` for the adapter to send. Pages come from `render`; every
/// `Ok` response carries [`PAGE_SECURITY_HEADERS`](crate::consent::PAGE_SECURITY_HEADERS).
pub async fn authorize_step<S, N, F, Fut, E>(
    provider: &Provider<S, N>,
    request: AuthorizeRequest<'_>,
    signed_in: F,
    render: impl Fn(&AuthorizePage<'_>) -> Response,
) -> Result<Response, E>
where
    S: TokenStore,
    N: NonceStore,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<SignedIn, E>>,
{
    step(
        AuthorizeMode::Authorize,
        provider,
        request,
        signed_in,
        render,
    )
    .await
}

/// Runs the authenticate endpoint (Twitter's `oauth/authenticate`) for an
/// adapter: [`authorize_step`], except that when the signed-in user already
/// let this sign-in-only app sign her in, the request token is approved
/// without a page and the browser sent straight to the callback
/// ([`Provider::sign_in_again`]) — on a top-level navigation only
/// ([`AuthorizeRequest::fetch_dest`]). Every other request token gets the
/// consent page, as at the authorize endpoint.
///
/// Approving without a click means a link to this endpoint with someone
/// else's request token signs the user in to the app under that token: the
/// app must, as every OAuth 1 consumer should, accept a callback only for a
/// request token it issued to the same browser session.
pub async fn authenticate_step<S, N, F, Fut, E>(
    provider: &Provider<S, N>,
    request: AuthorizeRequest<'_>,
    signed_in: F,
    render: impl Fn(&AuthorizePage<'_>) -> Response,
) -> Result<Response, E>
where
    S: TokenStore,
    N: NonceStore,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<SignedIn, E>>,
{
    step(AuthorizeMode::SignIn, provider, request, signed_in, render).await
}

/// [`authorize_step`] or [`authenticate_step`], by `mode`.
pub(crate) async fn step<S, N, F, Fut, E>(
    mode: AuthorizeMode,
    provider: &Provider<S, N>,
    request: AuthorizeRequest<'_>,
    signed_in: F,
    render: impl Fn(&AuthorizePage<'_>) -> Response,
) -> Result<Response, E>
where
    S: TokenStore,
    N: NonceStore,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<SignedIn, E>>,
{
    let page = |page: &AuthorizePage<'_>| with_page_security_headers(render(page));
    let posted = request.method.eq_ignore_ascii_case("POST");
    let form = if posted {
        std::str::from_utf8(request.form).map_or_else(|_| Vec::new(), parse_form)
    } else {
        Vec::new()
    };
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target, ""));
    let query = parse_form(query);
    let hints = AuthorizeHints::from_pairs(&query);
    let field = |pairs: &[(String, String)], name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    let token = field(&form, TOKEN_FIELD)
        .or_else(|| field(&query, TOKEN_FIELD))
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return Ok(page(&AuthorizePage::Error(PageError::MissingToken)));
    };
    let origin = request.origin;
    let view = Request::new(
        request.method,
        &origin.scheme,
        &origin.authority,
        request.target,
    );
    let site = normalized_host(&origin.scheme, &origin.authority)
        .unwrap_or_else(|_| origin.authority.clone());
    let pending = match provider.pending_authorization(&view, &token).await {
        Ok(pending) => pending,
        Err(e) => {
            tracing::info!(error = %e, "authorize page refused");
            return Ok(page(&AuthorizePage::Error(PageError::Authorize(&e))));
        }
    };
    let mut return_to = format!(
        "{path}?{TOKEN_FIELD}={}",
        crate::protocol::encoding::percent_encode(&token)
    );
    // The display hints survive a detour through the login page.
    for (name, value) in [
        ("hd", &hints.hd),
        ("hl", &hints.hl),
        ("btmpl", &hints.btmpl),
    ] {
        if let Some(value) = value {
            let _ = write!(
                return_to,
                "&{name}={}",
                crate::protocol::encoding::percent_encode(value)
            );
        }
    }
    let signed_in = signed_in(return_to).await?;
    let app_name = pending.app_name();
    // Only a posted form decides; a link never does.
    let Some(decision) = field(&form, DECISION_FIELD) else {
        let navigation = request
            .fetch_dest
            .is_none_or(|dest| dest.eq_ignore_ascii_case("document"));
        if mode == AuthorizeMode::SignIn && navigation {
            match provider.sign_in_again(&view, &token, &signed_in.user).await {
                Ok(None) => {}
                Ok(Some(Approval::Redirect(url))) => return Ok(see_other(&url)),
                Ok(Some(Approval::Oob { verifier })) => {
                    return Ok(page(&AuthorizePage::Verifier {
                        app_name,
                        verifier: verifier.secret(),
                        site: &site,
                    }));
                }
                Err(e) => return Ok(page(&AuthorizePage::Error(PageError::Authorize(&e)))),
            }
        }
        return Ok(page(&AuthorizePage::Consent(ConsentPage {
            pending: &pending,
            user: &signed_in.user,
            csrf_token: &signed_in.csrf_token,
            action: path,
            site: &site,
            hints: &hints,
        })));
    };
    if !csrf_matches(&signed_in.csrf_token, field(&form, CSRF_FIELD).as_deref()) {
        tracing::warn!(consumer = ?pending.consumer_key, "consent answer without the session's CSRF token refused");
        return Ok(page(&AuthorizePage::Error(PageError::Forged)));
    }
    Ok(match Decision::parse(&decision) {
        None => page(&AuthorizePage::Error(PageError::UnknownDecision)),
        Some(Decision::Allow) => match provider.approve(&view, &token, signed_in.user).await {
            Ok(Approval::Redirect(url)) => see_other(&url),
            Ok(Approval::Oob { verifier }) => page(&AuthorizePage::Verifier {
                app_name,
                verifier: verifier.secret(),
                site: &site,
            }),
            Err(e) => page(&AuthorizePage::Error(PageError::Authorize(&e))),
        },
        Some(Decision::Deny) => match provider.deny(&view, &token).await {
            Ok(Denial::Redirect(url)) => see_other(&url),
            Ok(Denial::Oob) => page(&AuthorizePage::Denied {
                app_name,
                site: &site,
            }),
            Err(e) => page(&AuthorizePage::Error(PageError::Authorize(&e))),
        },
    })
}

/// A 303 to the consumer's callback, which carries the token and verifier:
/// not cached, no referrer. A callback that cannot be a header value is a
/// 500, never a response without its `Location`.
fn see_other(url: &str) -> Response {
    let header_safe = url.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f));
    if !header_safe || url.is_empty() {
        tracing::error!("a callback URL cannot be sent as a Location header");
        return with_page_security_headers(Response {
            status: 500,
            headers: vec![("content-type", "text/plain; charset=utf-8".to_owned())],
            body: "The application's callback address cannot be used.".to_owned(),
        });
    }
    with_page_security_headers(Response {
        status: 303,
        headers: vec![("location", url.to_owned())],
        body: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_comparison() {
        assert!(csrf_matches("abc", Some("abc")));
        assert!(!csrf_matches("abc", Some("abd")));
        assert!(!csrf_matches("abc", None));
        assert!(!csrf_matches("", Some("")));
    }
}
