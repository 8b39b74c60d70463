//! The neutral response the provider's endpoints return, which adapters turn
//! into their framework's response.

/// An HTTP response: status, headers and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Header names (lower-case) and values.
    pub headers: Vec<(&'static str, String)>,
    /// The body (form-encoded for OAuth answers).
    pub body: String,
}

/// The media type of OAuth's token and problem responses (RFC 5849 §2.1).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

impl Response {
    /// A form-encoded credentials response: 200 with `Cache-Control: no-store`.
    pub(crate) fn credentials(body: String) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type", FORM_CONTENT_TYPE.to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("pragma", "no-cache".to_owned()),
            ],
            body,
        }
    }

    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses a form-encoded body into `(name, value)` pairs, decoded — for
    /// clients and tests reading a token response.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        parse_form(&self.body)
    }
}

/// Parses `application/x-www-form-urlencoded` text into decoded pairs
/// (`+` as space); undecodable pairs are skipped.
pub fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = crate::protocol::encoding::percent_decode_str(name, true)?;
            let value = crate::protocol::encoding::percent_decode_str(value, true)?;
            Some((name.into_owned(), value.into_owned()))
        })
        .collect()
}
