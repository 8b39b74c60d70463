//! Provider futures are `Send`; public types `Send + Sync`.

use std::sync::Arc;

use oauth1_provider::{ConsumerRegistry, MemoryStore, OAuthError, Provider};

use crate::support::harness::{alice, harness};
use crate::support::request::OwnedRequest;

#[test]
fn provider_futures_and_public_types_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    let h = harness();
    let request = OwnedRequest::from_url("GET", "https://api.example.com/x", None);
    let view = request.view();
    assert_send(&h.provider.request_token(&view));
    assert_send(&h.provider.access_token(&view));
    assert_send(&h.provider.authenticate(&view));
    assert_send(&h.provider.get_current_user(&view));
    assert_send(&h.provider.approve(&view, "t", alice()));
    assert_send(&h.provider.deny(&view, "t"));
    assert_send(&h.provider.pending_authorization(&view, "t"));
    assert_send(&h.provider.authorizations("u"));
    assert_send_sync::<Provider<MemoryStore>>();
    assert_send_sync::<Provider<Arc<MemoryStore>>>();
    assert_send_sync::<OAuthError>();
    assert_send_sync::<oauth1_provider::OAuthContext>();
    assert_send_sync::<ConsumerRegistry>();
}
