//! The user behind an authorized token, as the host's own login knows her.

/// A user of the host app (App Engine's `users.User`): who approved a token.
///
/// The library never sees the user's password: the host's login decides who
/// the user is and hands this value to [`Provider::approve`](crate::Provider::approve).
///
/// With the `serde` feature it serializes as its four fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct User {
    /// The user's email address.
    pub email: String,
    /// A stable, unique user id (App Engine's `user_id()`).
    pub user_id: String,
    /// Whether the user is an administrator of the host app.
    pub admin: bool,
    /// The authentication domain (App Engine's `auth_domain()`, e.g. `gmail.com`).
    pub auth_domain: String,
}

impl User {
    /// A user with the given email and id, not an admin, whose auth domain is
    /// the email's domain.
    pub fn new(email: impl Into<String>, user_id: impl Into<String>) -> Self {
        let email = email.into();
        let auth_domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
        Self {
            email,
            user_id: user_id.into(),
            admin: false,
            auth_domain,
        }
    }

    /// Marks the user as an administrator.
    pub fn admin(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }

    /// The user's email address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The user's stable id.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The user's authentication domain.
    pub fn auth_domain(&self) -> &str {
        &self.auth_domain
    }
}
