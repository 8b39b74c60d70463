//! Reading what a provider answered: the in-process adapters' [`Reply`],
//! form and query parameters, hidden form fields.

use oauth1_provider::protocol::parse_form;

/// A response as the in-process adapter tests read it: status (the
/// framework's own `StatusCode`), headers and body text.
pub struct Reply<Status> {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl<Status: Copy + Into<u16>> Reply<Status> {
    /// Builds a reply from header pairs (names compared case-insensitively).
    pub fn new<'a>(
        status: Status,
        headers: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        body: &[u8],
    ) -> Self {
        Self {
            status,
            headers: headers
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
                .collect(),
            body: String::from_utf8(body.to_vec()).expect("a UTF-8 body"),
        }
    }

    /// The same reply with its status as a number, for code that serves
    /// more than one framework.
    pub fn numeric(self) -> Reply<u16> {
        Reply {
            status: self.status.into(),
            headers: self.headers,
            body: self.body,
        }
    }

    /// The first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Location` header, which must be there.
    pub fn location(&self) -> &str {
        self.header("location").expect("a Location header")
    }

    /// A decoded field of a form-encoded body, which must be there.
    pub fn field(&self, name: &str) -> String {
        param(&self.body, name).unwrap_or_else(|| panic!("no {name} in {}", self.body))
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status.into(), status, "{}", self.body);
    }

    /// A request without credentials: 401 with the bare challenge
    /// `WWW-Authenticate: OAuth realm="…"` (no `oauth_problem` in it), the
    /// body still naming what is absent.
    #[track_caller]
    pub fn assert_unauthenticated(&self) {
        self.assert_status(401);
        let challenge = self.header("www-authenticate").expect("WWW-Authenticate");
        assert!(
            challenge.starts_with("OAuth realm=\"")
                && challenge.ends_with('"')
                && !challenge.contains("oauth_problem"),
            "{challenge}"
        );
        assert_eq!(
            param(&self.body, "oauth_problem").as_deref(),
            Some("parameter_absent"),
            "{}",
            self.body
        );
        assert!(
            self.body
                .contains("oauth_parameters_absent=oauth_consumer_key"),
            "{}",
            self.body
        );
    }

    /// The status, the body's `oauth_problem` and the `WWW-Authenticate`
    /// challenge all say `problem`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, problem: &str) {
        self.assert_status(status);
        assert_eq!(
            param(&self.body, "oauth_problem").as_deref(),
            Some(problem),
            "{}",
            self.body
        );
        let challenge = self.header("www-authenticate").expect("WWW-Authenticate");
        assert!(
            challenge.starts_with("OAuth realm=\"")
                && challenge.contains(&format!("oauth_problem=\"{problem}\"")),
            "{challenge}"
        );
    }

    /// The headers every consent and account page carries.
    #[track_caller]
    pub fn assert_page_headers(&self) {
        assert_eq!(self.header("x-frame-options"), Some("DENY"));
        let csp = self.header("content-security-policy").expect("CSP");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(self.header("cache-control"), Some("no-store"));
    }
}

/// A decoded parameter of a URL's query, or of form-encoded text.
pub fn param(form: &str, name: &str) -> Option<String> {
    let query = form.split_once('?').map_or(form, |(_, q)| q);
    parse_form(query)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// The value of `<input type="hidden" name="NAME" value="...">` (our
/// pages' hidden values are tokens and need no HTML unescaping).
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// [`hidden_field`], which must be there.
pub fn hidden(html: &str, name: &str) -> String {
    hidden_field(html, name).unwrap_or_else(|| panic!("no field {name} in {html}"))
}
