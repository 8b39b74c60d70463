//! An owned request as a vector or a test describes it.

use oauth1_provider::Request;

/// An owned request as a vector or test describes it, viewable as a [`Request`].
#[derive(Debug)]
pub struct OwnedRequest {
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub target: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl OwnedRequest {
    /// Splits an absolute URL; `host` (the Host header) overrides its authority.
    pub fn from_url(method: &str, url: &str, host: Option<&str>) -> Self {
        let (scheme, rest) = url.split_once("://").expect("absolute URL");
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        Self {
            method: method.to_owned(),
            scheme: scheme.to_owned(),
            authority: host.unwrap_or(authority).to_owned(),
            target: if target.is_empty() {
                "/".to_owned()
            } else {
                target.to_owned()
            },
            authorization: None,
            content_type: None,
            body: Vec::new(),
        }
    }

    pub fn view(&self) -> Request<'_> {
        Request::new(&self.method, &self.scheme, &self.authority, &self.target)
            .authorization(self.authorization.as_deref())
            .form_body(self.content_type.as_deref(), &self.body)
    }
}
