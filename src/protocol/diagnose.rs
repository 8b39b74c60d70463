//! "Why does my signature not match?": compares the signature base string
//! a client signed with the one the provider computed (RFC 5849 §3.4.1) and
//! names the first component that differs — the method, the base string
//! URI, or a parameter (missing, extra, or with another value).

use std::borrow::Cow;

use crate::protocol::encoding::percent_decode_str;

/// The first difference between two signature base strings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseStringDifference {
    /// A string is not `METHOD&URI&PARAMETERS`.
    Malformed {
        /// Which: `expected` or `client`.
        which: &'static str,
    },
    /// The HTTP methods differ.
    Method {
        /// The provider's.
        expected: String,
        /// The client's.
        client: String,
    },
    /// The base string URIs differ (scheme, host, port or path).
    Uri {
        /// The provider's, decoded.
        expected: String,
        /// The client's, decoded.
        client: String,
    },
    /// The client's parameters lack this one (or have it later in the
    /// sorted order).
    MissingParameter {
        /// Its name, encoded as in the base string.
        name: String,
    },
    /// The client's parameters have this one that the provider's lack.
    ExtraParameter {
        /// Its name, encoded as in the base string.
        name: String,
    },
    /// The parameter is in both with another value.
    ParameterValue {
        /// Its name, encoded as in the base string.
        name: String,
        /// The provider's value, encoded as in the base string.
        expected: String,
        /// The client's.
        client: String,
    },
}

impl std::fmt::Display for BaseStringDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed { which } => {
                write!(f, "the {which} base string is not METHOD&URI&PARAMETERS")
            }
            Self::Method { expected, client } => {
                write!(f, "the method: {client:?} where {expected:?} was received")
            }
            Self::Uri { expected, client } => write!(
                f,
                "the base string URI: {client:?} where the request was for {expected:?}"
            ),
            Self::MissingParameter { name } => write!(f, "parameter {name} is missing"),
            Self::ExtraParameter { name } => {
                write!(f, "parameter {name} was signed but not received")
            }
            Self::ParameterValue {
                name,
                expected,
                client,
            } => write!(
                f,
                "parameter {name}: {client:?} where {expected:?} was received"
            ),
        }
    }
}

/// A base string's parameters, decoded once: (name, value) pairs still
/// encoded as the normalized parameters hold them.
type Pairs = Vec<(String, String)>;

/// The three parts of a base string: method, decoded URI, parameters.
fn parts(base_string: &str) -> Option<(&str, Cow<'_, str>, Pairs)> {
    let mut parts = base_string.trim().splitn(3, '&');
    let (method, uri, params) = (parts.next()?, parts.next()?, parts.next()?);
    let uri = percent_decode_str(uri, false)?;
    let params = percent_decode_str(params, false)?;
    let pairs = params
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect();
    Some((method, uri, pairs))
}

/// The first component in which the client's base string differs from the
/// provider's, or `None` when they are the same.
pub fn first_difference(expected: &str, client: &str) -> Option<BaseStringDifference> {
    let Some((method, uri, params)) = parts(expected) else {
        return Some(BaseStringDifference::Malformed { which: "expected" });
    };
    let Some((client_method, client_uri, client_params)) = parts(client) else {
        return Some(BaseStringDifference::Malformed { which: "client" });
    };
    if method != client_method {
        return Some(BaseStringDifference::Method {
            expected: method.to_owned(),
            client: client_method.to_owned(),
        });
    }
    if uri != client_uri {
        return Some(BaseStringDifference::Uri {
            expected: uri.into_owned(),
            client: client_uri.into_owned(),
        });
    }
    let mut ours = params.into_iter();
    let mut theirs = client_params.into_iter();
    loop {
        match (ours.next(), theirs.next()) {
            (None, None) => return None,
            (Some((name, _)), None) => {
                return Some(BaseStringDifference::MissingParameter { name });
            }
            (None, Some((name, _))) => return Some(BaseStringDifference::ExtraParameter { name }),
            (Some((name, value)), Some((client_name, client_value))) => {
                if name != client_name {
                    // Sorted by name: the smaller one is the one the other lacks.
                    return Some(if name < client_name {
                        BaseStringDifference::MissingParameter { name }
                    } else {
                        BaseStringDifference::ExtraParameter { name: client_name }
                    });
                }
                if value != client_value {
                    return Some(BaseStringDifference::ParameterValue {
                        name,
                        expected: value,
                        client: client_value,
                    });
                }
            }
        }
    }
}

/// How many leading characters two strings share: where to start
/// highlighting their difference.
pub fn common_prefix_chars(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "GET&http%3A%2F%2Fapi.example.com%2Fphotos&a%3D1%26oauth_nonce%3Dn%26z%3D%2520";

    #[test]
    fn names_the_first_differing_component() {
        assert_eq!(first_difference(BASE, BASE), None);
        let cases = [
            (
                BASE.replacen("GET", "POST", 1),
                BaseStringDifference::Method {
                    expected: "GET".into(),
                    client: "POST".into(),
                },
            ),
            (
                BASE.replacen("api.example.com", "api.example.com%3A80", 1),
                BaseStringDifference::Uri {
                    expected: "http://api.example.com/photos".into(),
                    client: "http://api.example.com:80/photos".into(),
                },
            ),
            (
                BASE.replacen("a%3D1%26", "", 1),
                BaseStringDifference::MissingParameter { name: "a".into() },
            ),
            (
                format!("{BASE}%26zz%3D1"),
                BaseStringDifference::ExtraParameter { name: "zz".into() },
            ),
            (
                BASE.replacen("%2520", "%252520", 1),
                BaseStringDifference::ParameterValue {
                    name: "z".into(),
                    expected: "%20".into(),
                    client: "%2520".into(),
                },
            ),
            (
                "GET&only-two".to_owned(),
                BaseStringDifference::Malformed { which: "client" },
            ),
        ];
        for (client, expected) in cases {
            assert_eq!(first_difference(BASE, &client), Some(expected), "{client}");
        }
        let text = first_difference(BASE, &BASE.replacen("%2520", "%2B", 1))
            .unwrap()
            .to_string();
        assert_eq!(text, "parameter z: \"+\" where \"%20\" was received");
        assert_eq!(common_prefix_chars("GET&abc", "GET&abd"), 6);
    }
}
