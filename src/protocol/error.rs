//! Protocol errors: what went wrong with a request, the HTTP status it earns,
//! and how it is reported to the client (the OAuth Problem Reporting
//! extension, as RFC 5849 §3.2 leaves the format to it).

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use crate::protocol::encoding::Encoded;

/// An `oauth_problem` code from the OAuth Problem Reporting extension.
///
/// Each code knows its HTTP status: 400 for a malformed request
/// (RFC 5849 §3.2: unsupported parameter or method, missing or duplicated
/// parameter), 401 for anything about credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// `oauth_version` is present and is not `1.0`. 400.
    VersionRejected,
    /// A required parameter is missing; see
    /// [`ProtocolError::parameters_absent`]. 400.
    ParameterAbsent,
    /// A parameter is duplicated, sent in more than one place, malformed, or
    /// over a size limit. 400.
    ParameterRejected,
    /// `oauth_timestamp` is outside the accepted window; see
    /// [`ProtocolError::acceptable_timestamps`]. 401.
    TimestampRefused,
    /// The nonce was already used with this timestamp and these credentials. 401.
    NonceUsed,
    /// The signature method is unknown or not allowed here. 400.
    SignatureMethodRejected,
    /// The signature does not verify, or the consumer or token is unknown
    /// (the three look the same to the client). 401.
    SignatureInvalid,
    /// The consumer key is unknown. Not sent to clients by the provider,
    /// which answers [`Problem::SignatureInvalid`] instead. 401.
    ConsumerKeyUnknown,
    /// The consumer key is known but may not use this endpoint or method. 401.
    ConsumerKeyRejected,
    /// The consumer key has been disabled (401), or is refused for now:
    /// it holds as many request tokens as it may (429, see
    /// [`ProtocolError::retry_after`]).
    ConsumerKeyRefused,
    /// The token was already used (a request token exchanged once). 401.
    TokenUsed,
    /// The token has expired. 401.
    TokenExpired,
    /// The token was revoked by its user. 401.
    TokenRevoked,
    /// The token is unknown, or not valid for this request. 401.
    TokenRejected,
    /// The verifier is wrong. 401.
    VerifierInvalid,
    /// The user refused to authorize the request token. 401.
    UserRefused,
    /// The consumer is not allowed this kind of request: 401, or 403 for
    /// an authentic request beyond its token's grants
    /// ([`ProtocolError::forbidden`]).
    PermissionDenied,
}

impl Problem {
    /// The `oauth_problem` code, as sent on the wire.
    pub const fn code(self) -> &'static str {
        match self {
            Self::VersionRejected => "version_rejected",
            Self::ParameterAbsent => "parameter_absent",
            Self::ParameterRejected => "parameter_rejected",
            Self::TimestampRefused => "timestamp_refused",
            Self::NonceUsed => "nonce_used",
            Self::SignatureMethodRejected => "signature_method_rejected",
            Self::SignatureInvalid => "signature_invalid",
            Self::ConsumerKeyUnknown => "consumer_key_unknown",
            Self::ConsumerKeyRejected => "consumer_key_rejected",
            Self::ConsumerKeyRefused => "consumer_key_refused",
            Self::TokenUsed => "token_used",
            Self::TokenExpired => "token_expired",
            Self::TokenRevoked => "token_revoked",
            Self::TokenRejected => "token_rejected",
            Self::VerifierInvalid => "verifier_invalid",
            Self::UserRefused => "user_refused",
            Self::PermissionDenied => "permission_denied",
        }
    }

    /// The HTTP status this problem is answered with (RFC 5849 §3.2).
    pub const fn status(self) -> u16 {
        match self {
            Self::VersionRejected
            | Self::ParameterAbsent
            | Self::ParameterRejected
            | Self::SignatureMethodRejected => 400,
            _ => 401,
        }
    }

    /// A one-line advice for client authors; never contains request data.
    const fn default_advice(self) -> &'static str {
        match self {
            Self::VersionRejected => "oauth_version must be 1.0 or absent",
            Self::ParameterAbsent => "a required OAuth parameter is missing",
            Self::ParameterRejected => "a parameter is duplicated, malformed or too large",
            Self::TimestampRefused => "oauth_timestamp is too far from the server's clock",
            Self::NonceUsed => "this nonce was already used; send a fresh one",
            Self::SignatureMethodRejected => "this signature method is not accepted",
            Self::SignatureInvalid => "the signature does not match the request",
            Self::ConsumerKeyUnknown => "the consumer key is not known",
            Self::ConsumerKeyRejected => "the consumer may not make this request",
            Self::ConsumerKeyRefused => "the consumer key has been disabled",
            Self::TokenUsed => "the token was already used",
            Self::TokenExpired => "the token has expired",
            Self::TokenRevoked => "the token was revoked",
            Self::TokenRejected => "the token is not valid for this request",
            Self::VerifierInvalid => "the verifier does not match",
            Self::UserRefused => "the user refused access",
            Self::PermissionDenied => "the consumer is not permitted this request",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A request the provider refuses: the problem, its HTTP status, and what is
/// reported to the client.
///
/// The advice never contains secrets, signatures or parameter values — only
/// parameter names and fixed text — so it is safe to send and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}: {advice}")]
pub struct ProtocolError {
    problem: Problem,
    advice: Cow<'static, str>,
    parameters_absent: Vec<&'static str>,
    acceptable_timestamps: Option<(u64, u64)>,
    retry_after: Option<u64>,
    /// The request carries no OAuth credentials at all: 401 with a bare
    /// challenge, see [`ProtocolError::credentials_absent`].
    credentials_absent: bool,
    /// An authentic request refused what it asked: 403, see
    /// [`ProtocolError::forbidden`].
    forbidden: bool,
}

impl ProtocolError {
    /// A protocol error with the problem's default advice.
    pub fn new(problem: Problem) -> Self {
        Self {
            problem,
            advice: Cow::Borrowed(problem.default_advice()),
            parameters_absent: Vec::new(),
            acceptable_timestamps: None,
            retry_after: None,
            credentials_absent: false,
            forbidden: false,
        }
    }

    /// `permission_denied` for an authentic request that asks more than
    /// its token was granted: answered 403 Forbidden (the credentials are
    /// good; sending them again will not help), with `advice` saying
    /// which grant it lacks. The advice must name only host-declared
    /// grants, never a request value.
    pub fn forbidden(advice: impl Into<Cow<'static, str>>) -> Self {
        Self {
            forbidden: true,
            ..Self::new(Problem::PermissionDenied).with_advice(advice)
        }
    }

    /// Replaces the advice. Must not contain secrets or request values.
    pub fn with_advice(mut self, advice: impl Into<Cow<'static, str>>) -> Self {
        self.advice = advice.into();
        self
    }

    /// `parameter_absent`, naming the missing parameters (`oauth_parameters_absent`).
    pub fn parameters_absent(names: Vec<&'static str>) -> Self {
        let mut advice = String::from("missing: ");
        advice.push_str(&names.join(", "));
        Self {
            parameters_absent: names,
            ..Self::new(Problem::ParameterAbsent).with_advice(advice)
        }
    }

    /// A request to a protected resource that carries no OAuth protocol
    /// parameter at all: it lacks credentials, so it is answered 401 with the
    /// bare challenge `WWW-Authenticate: OAuth realm="…"` (RFC 9110
    /// §15.5.2, RFC 5849 §3.2), not 400. The body still reports
    /// `parameter_absent` and names what a signed request needs. A request
    /// with some but not all of them is [`ProtocolError::parameters_absent`]
    /// (400).
    pub fn credentials_absent(names: Vec<&'static str>) -> Self {
        Self {
            credentials_absent: true,
            ..Self::parameters_absent(names)
                .with_advice("this resource needs an OAuth-signed request")
        }
    }

    /// `timestamp_refused`, with the accepted range (`oauth_acceptable_timestamps`).
    pub fn timestamp_refused(earliest: u64, latest: u64) -> Self {
        Self {
            acceptable_timestamps: Some((earliest, latest)),
            ..Self::new(Problem::TimestampRefused)
        }
    }

    /// `consumer_key_refused` for a consumer that may not have more right
    /// now (it holds as many request tokens as it may): answered 429 Too
    /// Many Requests with `Retry-After: {seconds}`.
    pub fn throttled(advice: &'static str, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(Problem::ConsumerKeyRefused).with_advice(advice)
        }
    }

    /// For a refusal of [`ProtocolError::throttled`]: how many seconds the
    /// client should wait before trying again (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The `oauth_problem`.
    pub fn problem(&self) -> Problem {
        self.problem
    }

    /// The HTTP status to answer with: the problem's (400 or 401), 401 for
    /// [`ProtocolError::credentials_absent`], 403 for
    /// [`ProtocolError::forbidden`], or 429 when the refusal is
    /// [`ProtocolError::throttled`].
    pub fn status(&self) -> u16 {
        if self.credentials_absent {
            401
        } else if self.forbidden {
            403
        } else if self.retry_after.is_some() {
            429
        } else {
            self.problem.status()
        }
    }

    /// Whether the request carried no OAuth credentials at all
    /// ([`ProtocolError::credentials_absent`]).
    pub fn is_credentials_absent(&self) -> bool {
        self.credentials_absent
    }

    /// The `oauth_problem_advice` text.
    pub fn advice(&self) -> &str {
        &self.advice
    }

    /// For `parameter_absent`: the names of the missing parameters.
    pub fn missing_parameters(&self) -> &[&'static str] {
        &self.parameters_absent
    }

    /// For `timestamp_refused`: the earliest and latest acceptable timestamps.
    pub fn acceptable_timestamps(&self) -> Option<(u64, u64)> {
        self.acceptable_timestamps
    }

    /// The `WWW-Authenticate` header value:
    /// `OAuth realm="…", oauth_problem="…"`, or the bare challenge
    /// `OAuth realm="…"` for a request without credentials.
    pub fn www_authenticate(&self, realm: &str) -> String {
        let mut out = String::from("OAuth realm=\"");
        for c in realm.chars() {
            // A quoted-string: escape the two characters that would end it.
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        if !self.credentials_absent {
            let _ = write!(out, ", oauth_problem=\"{}\"", self.problem.code());
        }
        out
    }

    /// The form-encoded body: `oauth_problem=…&oauth_problem_advice=…`, plus
    /// `oauth_parameters_absent`, `oauth_acceptable_versions` or
    /// `oauth_acceptable_timestamps` where they apply.
    pub fn form_body(&self) -> String {
        let mut out = format!(
            "oauth_problem={}&oauth_problem_advice={}",
            self.problem.code(),
            Encoded(&self.advice)
        );
        if !self.parameters_absent.is_empty() {
            let _ = write!(
                out,
                "&oauth_parameters_absent={}",
                Encoded(&self.parameters_absent.join("&"))
            );
        }
        if self.problem == Problem::VersionRejected {
            out.push_str("&oauth_acceptable_versions=1.0-1.0");
        }
        if let Some((earliest, latest)) = self.acceptable_timestamps {
            let _ = write!(out, "&oauth_acceptable_timestamps={earliest}-{latest}");
        }
        out
    }
}

impl From<Problem> for ProtocolError {
    fn from(problem: Problem) -> Self {
        Self::new(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc_5849_section_3_2() {
        assert_eq!(Problem::ParameterAbsent.status(), 400);
        assert_eq!(Problem::SignatureMethodRejected.status(), 400);
        assert_eq!(Problem::SignatureInvalid.status(), 401);
        assert_eq!(Problem::NonceUsed.status(), 401);
    }

    #[test]
    fn renders_problem_reporting() {
        let e = ProtocolError::parameters_absent(vec!["oauth_nonce", "oauth_timestamp"]);
        assert_eq!(
            e.www_authenticate("Ex\"ample"),
            r#"OAuth realm="Ex\"ample", oauth_problem="parameter_absent""#
        );
        assert_eq!(
            e.form_body(),
            "oauth_problem=parameter_absent&oauth_problem_advice=missing%3A%20oauth_nonce%2C%20oauth_timestamp\
             &oauth_parameters_absent=oauth_nonce%26oauth_timestamp"
        );
        let none = ProtocolError::credentials_absent(vec!["oauth_consumer_key"]);
        assert_eq!(none.www_authenticate("Example"), r#"OAuth realm="Example""#);
        assert_eq!(
            (none.status(), none.problem()),
            (401, Problem::ParameterAbsent)
        );
        assert!(
            none.form_body()
                .ends_with("&oauth_parameters_absent=oauth_consumer_key")
        );
        let t = ProtocolError::timestamp_refused(100, 700);
        assert!(
            t.form_body()
                .ends_with("&oauth_acceptable_timestamps=100-700")
        );
        assert_eq!(t.status(), 401);
    }
}
