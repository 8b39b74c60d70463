//! The authorize step's HTML pages: consent, the `oob` verifier, denial and
//! errors, with the security headers every such page carries.

use std::fmt::Write as _;

use crate::model::text::strip_hidden_characters;
use crate::model::token::Callback;
use crate::model::user::User;
use crate::protocol::response::Response;
use crate::provider::authorize::{AuthorizeError, PendingAuthorization};

/// A rendered page of the authorize step: the crate's neutral
/// [`Response`](crate::Response) (status, headers, HTML body), which the
/// adapter turns into its framework's. A name of its own, so that a
/// `ConsentUi` signature never shows two different types as `Response`.
pub type Page = Response;

/// The consent form's field carrying the request token.
pub const TOKEN_FIELD: &str = "oauth_token";
/// The consent form's field carrying the CSRF token bound to the session.
pub const CSRF_FIELD: &str = "csrf_token";
/// The consent form's field carrying the user's answer: `allow` or `deny`.
pub const DECISION_FIELD: &str = "decision";
/// Largest consent form body an adapter reads, in bytes.
pub const MAX_CONSENT_FORM_BYTES: usize = 16 * 1024;

/// The `Content-Security-Policy` of the pages: nothing but inline styles, and
/// never inside a frame.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// Headers every authorize-step and account page carries: no framing
/// (clickjacking a consent button), no caching (the page may show a
/// verifier), no referrer (its URL carries the request token).
pub const PAGE_SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
];

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Adds each of [`PAGE_SECURITY_HEADERS`] the response does not set itself.
pub(crate) fn with_page_security_headers(mut response: Response) -> Response {
    for (name, value) in PAGE_SECURITY_HEADERS {
        if response.header(name).is_none() {
            response.headers.push((name, value.to_owned()));
        }
    }
    response
}

/// An HTML response with [`PAGE_SECURITY_HEADERS`].
pub(crate) fn html_response(status: u16, html: String) -> Response {
    with_page_security_headers(Response {
        status,
        headers: vec![("content-type", "text/html; charset=utf-8".to_owned())],
        body: html,
    })
}

/// A complete HTML document in the pages' plain style: `title` is escaped,
/// `body_html` is inserted as is (escape what you put in it).
pub(crate) fn html_document(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><style>{STYLE}</style></head>\
         <body><main class=\"card\">{body_html}</main></body></html>\n",
        escape_html(title)
    )
}

const STYLE: &str = "\
:root{color-scheme:light;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--accent:#1f6feb;\
--warn-bg:#fff8c5;--warn-line:#d4a72c}\
*{box-sizing:border-box}\
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;\
background:#f6f8fa;color:var(--ink);font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
.card{width:calc(100% - 2rem);max-width:30rem;margin:4rem 1rem;padding:2rem;background:#fff;\
border:1px solid var(--line);border-radius:12px;box-shadow:0 1px 3px rgba(31,35,40,.08);\
overflow-wrap:break-word}code{overflow-wrap:anywhere}\
h1{font-size:1.35rem;line-height:1.3;margin:0 0 1rem}\
p{margin:.75rem 0}.muted{color:var(--muted);font-size:.9rem}\
.site{color:var(--muted);font-size:.85rem;letter-spacing:.02em;margin:0 0 1.25rem}\
.warn{background:var(--warn-bg);border:1px solid var(--warn-line);border-radius:8px;padding:.75rem 1rem}\
.scope{border:1px solid var(--line);border-radius:8px;padding:.25rem 1rem}\
.scope ul{padding-left:1.2rem;margin:.5rem 0}\
code.verifier{display:block;margin:1rem 0;padding:.75rem;text-align:center;font-size:1.1rem;\
letter-spacing:.02em;word-break:break-all;background:#f6f8fa;border:1px solid var(--line);border-radius:8px}\
form{margin:0}.actions{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.5rem}\
button,.button{font:inherit;padding:.5rem 1.1rem;border-radius:8px;border:1px solid var(--line);\
background:#f6f8fa;color:var(--ink);cursor:pointer;text-decoration:none;white-space:nowrap}\
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}\
label{display:block;margin:.75rem 0 .25rem;font-weight:600;font-size:.9rem}\
input[type=email],input[type=password]{width:100%;font:inherit;padding:.5rem .6rem;\
border:1px solid var(--line);border-radius:8px}\
table{width:100%;border-collapse:collapse;margin:1rem 0}\
td,th{text-align:left;padding:.5rem .25rem;border-bottom:1px solid var(--line);vertical-align:middle}\
th{font-size:.8rem;color:var(--muted);font-weight:600}.nowrap{white-space:nowrap}\
.error{color:#d1242f}a{color:var(--accent)}\
@media (max-width:32rem){.card{margin:1rem;padding:1.25rem}}";

/// What the consent page shows.
#[derive(Debug, Clone, Copy)]
pub struct ConsentPage<'a> {
    /// The request token waiting for an answer.
    pub pending: &'a PendingAuthorization,
    /// The signed-in user.
    pub user: &'a User,
    /// The CSRF token bound to the user's session, for the hidden field.
    pub csrf_token: &'a str,
    /// Where the form posts: the authorize path as the browser sees it.
    pub action: &'a str,
    /// The host the user is on (`example.com`, `localhost:8080`).
    pub site: &'a str,
    /// Display hints the consumer put on the authorize URL (`hd`, `hl`,
    /// `btmpl`), for a renderer that wants them.
    pub hints: &'a AuthorizeHints,
}

/// Google's optional display hints on the authorize URL (RFC 5849 §2.2 lets
/// a provider define more parameters): accepted, never required, passed to
/// the consent renderer as sent. Each is at most [`AuthorizeHints::MAX_LEN`]
/// bytes of visible ASCII, else dropped; they are untrusted text: escape them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeHints {
    /// `hd`: the hosted domain the consumer expects the user to sign in with
    /// (e.g. `example.com`), lower-cased; dropped unless it is a domain
    /// name (letters, digits and hyphens, a top-level domain of letters).
    pub hd: Option<String>,
    /// `hl`: the language to show the page in (e.g. `en`, `pt-BR`).
    pub hl: Option<String>,
    /// `btmpl`: the page template, e.g. `mobile` for a small screen.
    pub btmpl: Option<String>,
}

impl AuthorizeHints {
    /// Longest accepted value, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Reads the hints from decoded query pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .filter(|v| {
                    !v.is_empty()
                        && v.len() <= Self::MAX_LEN
                        && v.bytes().all(|b| b.is_ascii_graphic())
                })
                .cloned()
        };
        Self {
            hd: get("hd")
                .filter(|hd| is_domain_name(hd))
                .map(|hd| hd.to_ascii_lowercase()),
            hl: get("hl"),
            btmpl: get("btmpl"),
        }
    }
}

/// Whether `name` is a domain name a hosted-domain hint can be: two or
/// more dot-separated labels of letters, digits and inner hyphens (1–63
/// characters each, 253 in all), the last one — the top-level domain —
/// letters only or an IDNA `xn--` label. So never an address
/// (`127.0.0.1`) nor a sentence dressed as a name
/// (`127.0.0.1-VERIFIED-PUBLISHER`).
fn is_domain_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let Some(top) = labels.last() else {
        return false;
    };
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && (top.bytes().all(|b| b.is_ascii_alphabetic())
            || top.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")))
}

/// Why the authorize step shows an error page.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum PageError<'a> {
    /// No `oauth_token` in the request.
    MissingToken,
    /// The request token cannot be authorized (unknown, expired, answered,
    /// another site's) or the service failed.
    Authorize(&'a AuthorizeError),
    /// A decision was posted without the session's CSRF token: not from our
    /// consent page. 403.
    Forged,
    /// A decision other than `allow` or `deny`.
    UnknownDecision,
}

impl PageError<'_> {
    /// The HTTP status: 400, 403 for [`PageError::Forged`], 503 for a
    /// service failure.
    pub fn status(&self) -> u16 {
        match self {
            Self::Forged => 403,
            Self::Authorize(e) => e.status(),
            Self::MissingToken | Self::UnknownDecision => 400,
        }
    }

    /// A short title for the user.
    pub fn title(&self) -> &'static str {
        match self {
            Self::MissingToken => "This link is incomplete",
            Self::Authorize(AuthorizeError::UnknownToken) => "This authorization link is not valid",
            Self::Authorize(AuthorizeError::Expired) => "This authorization request has expired",
            Self::Authorize(AuthorizeError::AlreadyDecided) => {
                "This authorization request was already answered"
            }
            Self::Authorize(AuthorizeError::WrongHost) => {
                "This authorization request belongs to another site"
            }
            Self::Authorize(_) => "The service is temporarily unavailable",
            Self::Forged => "This request did not come from the consent page",
            Self::UnknownDecision => "Unknown answer",
        }
    }

    /// What happened and what to do, for the user.
    pub fn message(&self) -> &'static str {
        match self {
            Self::MissingToken | Self::Authorize(AuthorizeError::UnknownToken) => {
                "Go back to the application and start connecting your account again."
            }
            Self::Authorize(AuthorizeError::Expired) => {
                "Authorization requests are valid for a few minutes. Go back to the \
                 application and start again."
            }
            Self::Authorize(AuthorizeError::AlreadyDecided) => {
                "Each request can be answered once. If you meant to connect the \
                 application, go back to it and start again."
            }
            Self::Authorize(AuthorizeError::WrongHost) => {
                "Open the link on the same address the application sent you to."
            }
            Self::Authorize(_) => "Nothing was changed. Please try again in a moment.",
            Self::Forged => {
                "Nothing was changed. If you want to answer, reload the consent page \
                 and use its buttons."
            }
            Self::UnknownDecision => "Use the Allow or Deny button on the consent page.",
        }
    }
}

/// One of the authorize step's pages.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum AuthorizePage<'a> {
    /// The consent page: the app's name, what it gets, Allow / Deny.
    Consent(ConsentPage<'a>),
    /// Approved with callback `oob`: the verifier to type into the app.
    Verifier {
        /// The name of the app.
        app_name: &'a str,
        /// The verifier.
        verifier: &'a str,
        /// The host the user is on.
        site: &'a str,
    },
    /// Denied with callback `oob`.
    Denied {
        /// The name of the app.
        app_name: &'a str,
        /// The host the user is on.
        site: &'a str,
    },
    /// An error page (expired, unknown or used token, forged form, …).
    Error(PageError<'a>),
}

/// Renders one of the authorize step's pages as HTML, every value escaped,
/// with [`PAGE_SECURITY_HEADERS`].
pub fn render_page(page: &AuthorizePage<'_>) -> Page {
    match page {
        AuthorizePage::Consent(consent) => html_response(200, consent_html(consent)),
        AuthorizePage::Verifier {
            app_name,
            verifier,
            site,
        } => {
            let body = format!(
                "<p class=\"site\">{site}</p><h1>You allowed {app}</h1>\
                 <p>To finish connecting, enter this code in <strong>{app}</strong>:</p>\
                 <code class=\"verifier\" id=\"verifier\">{verifier}</code>\
                 <p class=\"muted\">The code works once. You can revoke the app's access \
                 later from your account page.</p>",
                site = escape_html(site),
                app = app_name_html(app_name),
                verifier = escape_html(verifier),
            );
            html_response(200, html_document("Access allowed", &body))
        }
        AuthorizePage::Denied { app_name, site } => {
            let body = format!(
                "<p class=\"site\">{site}</p><h1>You denied {app}</h1>\
                 <p><strong>{app}</strong> was not given access to your account. \
                 You can close this page.</p>",
                site = escape_html(site),
                app = app_name_html(app_name),
            );
            html_response(200, html_document("Access denied", &body))
        }
        AuthorizePage::Error(error) => {
            let body = format!(
                "<h1>{}</h1><p>{}</p>",
                escape_html(error.title()),
                escape_html(error.message())
            );
            html_response(error.status(), html_document(error.title(), &body))
        }
    }
}

/// The most characters of an app's name a page shows: an unregistered app
/// names itself, and a name of any length must not push the buttons off the
/// page.
pub(crate) const MAX_APP_NAME_CHARS: usize = 80;

/// An app's name for a page: its [hidden characters] (bidi controls,
/// zero-width and control characters) removed, then cut at
/// [`MAX_APP_NAME_CHARS`] (with `…`).
///
/// [hidden characters]: crate::model::is_hidden_character
fn short_app_name(name: &str) -> std::borrow::Cow<'_, str> {
    let visible = strip_hidden_characters(name);
    match visible.char_indices().nth(MAX_APP_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &visible[..cut]).into(),
        None => visible,
    }
}

/// [`short_app_name`], escaped for HTML and isolated in `<bdi>`, so that
/// right-to-left text in it cannot reorder the sentence around it.
fn app_name_html(name: &str) -> String {
    format!("<bdi>{}</bdi>", escape_html(&short_app_name(name)))
}

fn consent_html(page: &ConsentPage<'_>) -> String {
    let pending = page.pending;
    let app = app_name_html(pending.app_name());
    let site = escape_html(page.site);
    let mut body = String::with_capacity(2048);
    // An unregistered app's name is only what it calls itself: quoted, and
    // said to be unverified, before the user reads it as a fact.
    let asking = if pending.unverified {
        format!("the unverified app “{app}”")
    } else {
        format!("<strong>{app}</strong>")
    };
    let sign_in_only = pending.is_sign_in_only();
    if sign_in_only {
        let _ = write!(
            body,
            "<p class=\"site\">{site}</p><h1>Sign in to {asking} with your {site} account?</h1>"
        );
    } else {
        let _ = write!(
            body,
            "<p class=\"site\">{site}</p><h1>Allow {asking} to access your account?</h1>"
        );
    }
    if pending.unverified {
        let _ = write!(
            body,
            "<p class=\"warn\"><strong>Unverified app.</strong> This app is not registered \
             with {site}; the name “{app}” is what the app calls itself and has not been \
             checked. Allow it only if you started this from an app you trust.</p>"
        );
    }
    if let Some(hd) = &page.hints.hd {
        let _ = write!(
            body,
            "<p class=\"muted\">The app asked for an account on <strong><bdi>{}</bdi></strong>.</p>",
            escape_html(hd)
        );
    }
    let _ = write!(
        body,
        "<p>Signed in as <strong>{}</strong>.</p>",
        escape_html(&page.user.email)
    );
    match &pending.grants {
        _ if sign_in_only => {
            let _ = write!(
                body,
                "<div class=\"scope\"><p><strong>{app}</strong> will only learn who you are \
                 on {site}: your email address, your user id, and whether you are an \
                 administrator. It will not be able to see or change anything in your account.</p></div>"
            );
        }
        None => {
            let _ = write!(
                body,
                "<div class=\"scope\"><p>If you allow, <strong>{app}</strong> will be able to:</p>\
                 <ul><li>use your whole account on {site}, acting as you, until you revoke its \
                 access</li></ul></div>"
            );
        }
        Some(grants) => {
            let _ = write!(
                body,
                "<div class=\"scope\"><p>If you allow, <strong>{app}</strong> will be able to:</p><ul>"
            );
            for grant in grants {
                let _ = write!(
                    body,
                    "<li class=\"grant\" data-grant=\"{}\">{}</li>",
                    escape_html(&grant.name),
                    escape_html(&grant.description)
                );
            }
            body.push_str("</ul><p class=\"muted\">Nothing else in your account.</p></div>");
        }
    }
    match (&pending.callback, pending.callback.origin()) {
        (Callback::Url(_), Some(origin)) => {
            let _ = write!(
                body,
                "<p class=\"muted\">After you answer you will be sent back to \
                 <strong class=\"callback\"><bdi>{}</bdi></strong>.</p>",
                escape_html(&origin)
            );
        }
        // Stored before callbacks were read as browsers read them: the page
        // cannot say where the browser would go.
        (Callback::Url(_), None) => body.push_str(
            "<p class=\"warn\">After you answer you will be sent to an address this site \
             cannot read safely. Deny unless you are sure of the app.</p>",
        ),
        (Callback::Oob, _) => body.push_str(
            "<p class=\"muted\">If you allow, you will get a code to enter in the app.</p>",
        ),
    }
    let _ = write!(
        body,
        "<p class=\"muted\">You can revoke access at any time from your account page.</p>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"{TOKEN_FIELD}\" value=\"{token}\">\
         <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{csrf}\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"{DECISION_FIELD}\" value=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"{DECISION_FIELD}\" value=\"allow\" class=\"primary\">Allow</button>\
         </div></form>",
        action = escape_html(page.action),
        token = escape_html(&pending.token),
        csrf = escape_html(page.csrf_token),
    );
    html_document(
        &format!("Allow {} access?", short_app_name(pending.app_name())),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::grant::Grant;

    fn pending(callback: Callback, unverified: bool) -> PendingAuthorization {
        PendingAuthorization {
            token: "tok\"en".into(),
            consumer_key: "k".into(),
            consumer_name: "Registered <App>".into(),
            display_name: Some("<script>alert(1)</script>".into()),
            unverified,
            callback,
            scope: None,
            grants: None,
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    /// The consent page for `pending` and `user`, with plain values for the
    /// rest.
    fn plain_consent_page(pending: &PendingAuthorization, user: &User) -> Page {
        render_page(&AuthorizePage::Consent(ConsentPage {
            pending,
            user,
            csrf_token: "c",
            action: "/a",
            site: "example.com",
            hints: &AuthorizeHints::default(),
        }))
    }

    #[test]
    fn consent_page_escapes_everything_and_warns_for_unverified_apps() {
        let user = User::new("a&b@example.com", "1");
        let p = pending(Callback::Url("https://evil@app.example/cb".into()), true);
        let page = render_page(&AuthorizePage::Consent(ConsentPage {
            pending: &p,
            user: &user,
            csrf_token: "c\"srf",
            action: "/_ah/OAuthAuthorizeToken",
            site: "example.com",
            hints: &AuthorizeHints {
                hd: Some("<b>corp.example</b>".into()),
                ..AuthorizeHints::default()
            },
        }));
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("<script>"), "{}", page.body);
        assert!(page.body.contains("&lt;script&gt;"));
        assert!(page.body.contains("Unverified app"));
        assert!(page.body.contains("a&amp;b@example.com"));
        assert!(page.body.contains("value=\"tok&quot;en\""));
        assert!(page.body.contains("value=\"c&quot;srf\""));
        // A callback with user-info (stored before such were refused) is not
        // named as if it were the host.
        assert!(!page.body.contains("app.example"), "{}", page.body);
        assert!(page.body.contains("cannot read safely"));
        assert!(page.body.contains("&lt;b&gt;corp.example&lt;/b&gt;"));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert!(
            page.header("content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        let p = pending(Callback::Url("https://App.example:443/cb".into()), false);
        let page = plain_consent_page(&p, &user);
        assert!(
            page.body.contains("<bdi>https://app.example</bdi>"),
            "{}",
            page.body
        );
        let registered = pending(Callback::Oob, false);
        let page = plain_consent_page(&registered, &user);
        assert!(!page.body.contains("Unverified app"));
        assert!(page.body.contains("Registered &lt;App&gt;"));
    }

    #[test]
    fn unverified_names_are_quoted_and_long_names_cut() {
        let user = User::new("u@example.com", "1");
        let mut p = pending(Callback::Oob, true);
        p.display_name = Some(format!("Photos{}", "x".repeat(500)));
        let page = plain_consent_page(&p, &user);
        let shown = format!("Photos{}…", "x".repeat(MAX_APP_NAME_CHARS - 6));
        assert!(
            page.body.contains(&format!(
                "<h1>Allow the unverified app “<bdi>{shown}</bdi>” to access"
            )),
            "{}",
            page.body
        );
        assert!(!page.body.contains(&"x".repeat(MAX_APP_NAME_CHARS)));
        let exact = "é".repeat(MAX_APP_NAME_CHARS);
        assert_eq!(short_app_name(&exact), exact.as_str());
    }

    #[test]
    fn error_pages_have_statuses() {
        let page = render_page(&AuthorizePage::Error(PageError::Forged));
        assert_eq!(page.status, 403);
        let expired = AuthorizeError::Expired;
        let page = render_page(&AuthorizePage::Error(PageError::Authorize(&expired)));
        assert_eq!(page.status, 400);
        assert!(page.body.contains("expired"));
    }

    #[test]
    fn hints_are_read_and_bounded() {
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        let hints = AuthorizeHints::from_pairs(&pairs(&[
            ("hd", "corp.example"),
            ("hl", "pt-BR"),
            ("btmpl", "mobile"),
        ]));
        assert_eq!(hints.hd.as_deref(), Some("corp.example"));
        assert_eq!(hints.hl.as_deref(), Some("pt-BR"));
        assert_eq!(hints.btmpl.as_deref(), Some("mobile"));
        let long = "x".repeat(AuthorizeHints::MAX_LEN + 1);
        let hints =
            AuthorizeHints::from_pairs(&pairs(&[("hd", &long), ("hl", "a b"), ("btmpl", "")]));
        assert_eq!(hints, AuthorizeHints::default());
    }

    /// SECURITY.md §4.8 says what the page shows: the whole-app grant, and
    /// not the `scope` the consumer sent.
    #[test]
    fn the_consent_page_shows_the_whole_app_grant_and_not_the_scope() {
        let user = User::new("u@example.com", "1");
        let mut p = pending(Callback::Url("https://app.example/cb".into()), false);
        p.scope = Some("https://example.com/feeds/ scope-marker".into());
        let page = plain_consent_page(&p, &user);
        assert!(
            page.body
                .contains("use your whole account on example.com, acting as you"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("Signed in as <strong>u@example.com</strong>")
        );
        assert!(page.body.contains("<bdi>https://app.example</bdi>"));
        assert!(!page.body.contains("scope-marker"), "{}", page.body);
    }

    #[test]
    fn the_consent_page_lists_each_grant_sentence_and_nothing_of_the_whole_app() {
        let user = User::new("u@example.com", "1");
        let mut p = pending(Callback::Oob, false);
        p.grants = Some(vec![
            Grant::new("identity", "Know who you are"),
            Grant::new("photos.read", "See your <photos>"),
        ]);
        let page = plain_consent_page(&p, &user);
        assert!(
            page.body.contains(
                "<li class=\"grant\" data-grant=\"identity\">Know who you are</li>\
                 <li class=\"grant\" data-grant=\"photos.read\">See your &lt;photos&gt;</li>"
            ),
            "{}",
            page.body
        );
        assert!(!page.body.contains("whole account"), "{}", page.body);
        assert!(page.body.contains("Allow <strong>"), "{}", page.body);
    }

    #[test]
    fn a_sign_in_only_app_is_said_to_learn_only_who_you_are() {
        let user = User::new("u@example.com", "1");
        let mut p = pending(Callback::Oob, false);
        p.grants = Some(vec![Grant::new("identity", "Know who you are")]);
        let page = plain_consent_page(&p, &user);
        assert!(
            page.body.contains("<h1>Sign in to <strong>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("will only learn who you are on example.com"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("whole account"), "{}", page.body);
        assert!(!page.body.contains("class=\"grant\""), "{}", page.body);
    }

    #[test]
    fn hosted_domain_hints_must_be_domain_names() {
        let hd =
            |value: &str| AuthorizeHints::from_pairs(&[("hd".to_owned(), value.to_owned())]).hd;
        for good in [
            "corp.example",
            "Corp.Example",
            "a-b.c1.example",
            "xn--bcher-kva.example",
            "mail.xn--p1ai",
        ] {
            assert_eq!(hd(good), Some(good.to_ascii_lowercase()), "{good}");
        }
        for bad in [
            "127.0.0.1-VERIFIED-PUBLISHER",
            "127.0.0.1",
            "localhost",
            "corp.example.",
            ".corp.example",
            "-corp.example",
            "corp-.example",
            "corp..example",
            "corp_example.com",
            "corp.example/x",
            "corp.c0m",
            "\u{202E}corp.example",
            "(verified)corp.example",
        ] {
            assert_eq!(hd(bad), None, "{bad}");
        }
        assert_eq!(hd(&format!("{}.example", "a".repeat(64))), None);
    }

    #[test]
    fn hidden_characters_never_reach_the_page_and_names_are_isolated() {
        let user = User::new("u@example.com", "1");
        let mut p = pending(Callback::Oob, true);
        p.display_name = Some(format!(
            "Google Drive{}\u{202E}” (verified by 127.0.0.1) “\u{200B}\n",
            "x".repeat(70)
        ));
        let page = plain_consent_page(&p, &user);
        for hidden in ['\u{202E}', '\u{200B}'] {
            assert!(!page.body.contains(hidden), "{}", page.body);
        }
        assert!(
            page.body.contains("app “<bdi>Google Drive"),
            "{}",
            page.body
        );
        assert_eq!(short_app_name("a\u{202E}b\u{2066}c"), "abc");
    }

    #[test]
    fn html_is_escaped_for_content_and_attributes() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
