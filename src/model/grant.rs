//! Grants: named permissions a host declares (`photos.read`, "See your
//! photos"), that a consumer is registered with, that a user approves on the
//! consent page and that an access token carries ([`Granted`]).
//!
//! A host that declares none keeps App Engine's model: every token may use
//! the whole app. A consumer registered with no grants gets such whole-app
//! tokens too, and its `scope` is recorded as sent. A consumer registered
//! with grants asks for some of them in `scope` (space- or comma-separated
//! names), or gets all of them when it sends none; its tokens carry exactly
//! what the user approved, through exchange and refresh, and the adapters
//! refuse a route needing another with 403 `permission_denied`.
//!
//! [`IDENTITY_GRANT`] is built in: every token lets its consumer learn who
//! the user is (the identity endpoint), and a consumer registered for
//! `identity` alone is a "Sign in with …" app.

use std::collections::BTreeSet;

/// The built-in grant every token carries: knowing who the user is (the
/// identity endpoint's answer). A consumer registered with this grant
/// alone only signs its users in ([`Granted::is_identity_only`]).
pub const IDENTITY_GRANT: &str = "identity";

/// What the consent page says of [`IDENTITY_GRANT`] unless the host
/// declares it with a sentence of its own.
pub const IDENTITY_GRANT_DESCRIPTION: &str =
    "Know who you are: your email address, your user id, and whether you are an administrator";

/// Longest grant name, in bytes.
pub const MAX_GRANT_NAME_BYTES: usize = 200;

/// A grant the host declares: its name, as consumers write it in `scope`,
/// and the sentence the consent page shows for it.
///
/// ```
/// use oauth1_provider::model::Grant;
/// let read = Grant::new("photos.read", "See your photos");
/// assert_eq!(read.name, "photos.read");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The name ([`is_valid_grant_name`]): `photos.read`, or a URL.
    pub name: String,
    /// What it lets an app do, as a sentence for the user ("See your
    /// photos").
    pub description: String,
}

impl Grant {
    /// A grant named `name`, described to users as `description`.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// Whether `name` can name a grant: 1 to [`MAX_GRANT_NAME_BYTES`] visible
/// ASCII characters, no comma (space and comma separate names in `scope`),
/// and not `*`. URLs qualify.
pub fn is_valid_grant_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_GRANT_NAME_BYTES
        && name != "*"
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b',')
}

/// The names in a `scope` value: separated by spaces or commas (a form's
/// `+` is a space already), empty ones skipped.
pub(crate) fn scope_names(scope: &str) -> impl Iterator<Item = &str> {
    scope
        .split([' ', ','])
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// What a token lets its consumer do.
///
/// Written (feature `serde`) as `"whole_app"` or `{"only": ["photos.read"]}`;
/// a record written before grants existed reads as `WholeApp`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Granted {
    /// App Engine's scope: the whole app, every grant check passes.
    #[default]
    WholeApp,
    /// Only these grants (and [`IDENTITY_GRANT`], which every token has).
    Only(BTreeSet<String>),
}

impl Granted {
    /// Exactly `names`.
    pub fn only<I, T>(names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        Self::Only(names.into_iter().map(Into::into).collect())
    }

    /// Whether a route needing `grant` may be used: always for a whole-app
    /// token and for [`IDENTITY_GRANT`], else when `grant` was granted.
    pub fn allows(&self, grant: &str) -> bool {
        match self {
            Self::WholeApp => true,
            Self::Only(names) => grant == IDENTITY_GRANT || names.contains(grant),
        }
    }

    /// Whether this is App Engine's whole-app scope.
    pub fn is_whole_app(&self) -> bool {
        matches!(self, Self::WholeApp)
    }

    /// The granted names, sorted; `None` for the whole app.
    pub fn names(&self) -> Option<&BTreeSet<String>> {
        match self {
            Self::WholeApp => None,
            Self::Only(names) => Some(names),
        }
    }

    /// Whether this grants nothing but [`IDENTITY_GRANT`]: a sign-in only.
    pub fn is_identity_only(&self) -> bool {
        match self {
            Self::WholeApp => false,
            Self::Only(names) => names.iter().all(|n| n == IDENTITY_GRANT),
        }
    }

    /// As a store keeps it: `None` for the whole app, else the names joined
    /// by single spaces.
    pub fn to_stored(&self) -> Option<String> {
        self.names().map(|names| {
            names
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    /// Read back from [`Granted::to_stored`].
    pub fn from_stored(stored: Option<&str>) -> Self {
        match stored {
            None => Self::WholeApp,
            Some(names) => Self::only(scope_names(names)),
        }
    }
}

impl std::fmt::Display for Granted {
    /// `whole app`, or the names joined by spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_stored() {
            None => f.write_str("whole app"),
            Some(names) => f.write_str(&names),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in [
            "photos.read",
            "identity",
            "https://photos.example/auth/read",
            "a",
        ] {
            assert!(is_valid_grant_name(good), "{good}");
        }
        let long = "a".repeat(MAX_GRANT_NAME_BYTES + 1);
        for bad in ["", "*", "a,b", "a b", "é", "a\tb", long.as_str()] {
            assert!(!is_valid_grant_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn scope_is_split_on_spaces_and_commas() {
        let names: Vec<_> =
            scope_names(" photos.read,photos.write  https://x.example/a ,").collect();
        assert_eq!(
            names,
            ["photos.read", "photos.write", "https://x.example/a"]
        );
        assert_eq!(scope_names(" , ").count(), 0);
    }

    #[test]
    fn whole_app_allows_everything_and_identity_is_always_granted() {
        assert!(Granted::WholeApp.allows("photos.write"));
        let read = Granted::only(["photos.read"]);
        assert!(read.allows("photos.read"));
        assert!(read.allows(IDENTITY_GRANT));
        assert!(!read.allows("photos.write"));
        assert!(!read.allows("photos"));
        assert!(!read.is_identity_only());
        assert!(Granted::only([IDENTITY_GRANT]).is_identity_only());
        assert!(!Granted::WholeApp.is_identity_only());
    }

    #[test]
    fn stored_form_round_trips() {
        for granted in [
            Granted::WholeApp,
            Granted::only(["photos.write", "photos.read"]),
            Granted::only([IDENTITY_GRANT]),
        ] {
            let stored = granted.to_stored();
            assert_eq!(Granted::from_stored(stored.as_deref()), granted);
        }
        assert_eq!(
            Granted::only(["b", "a"]).to_stored().as_deref(),
            Some("a b")
        );
        assert_eq!(Granted::only(["b", "a"]).to_string(), "a b");
        assert_eq!(Granted::WholeApp.to_string(), "whole app");
    }
}
