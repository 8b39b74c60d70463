//! Limits on every input the provider reads: each one, just over its
//! default, is a 400 `parameter_rejected` at every endpoint; and input a
//! hundred times past the limits is refused without an allocation in
//! proportion to it (the tests' allocator, `alloc_probe`, watches the largest one).

use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{FORM_CONTENT_TYPE, Limits};

use crate::support::alloc_probe::largest_allocation;
use crate::support::harness::{CALLBACK, Harness, ORIGIN, alice, assert_refused, harness};
use crate::support::request::OwnedRequest;

// ------------------------------------------------------------ requests

/// Which endpoint a request goes to.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    RequestToken,
    AccessToken,
    Resource,
}

const ENDPOINTS: [Endpoint; 3] = [
    Endpoint::RequestToken,
    Endpoint::AccessToken,
    Endpoint::Resource,
];

impl Endpoint {
    /// A request the endpoint accepts, signed with `signer` and
    /// `query` (`?…`) and `body` added — or refuses only for them.
    fn request(
        self,
        h: &Harness,
        token: (&str, &str, &str),
        adjust: &dyn Fn(Signer<'_>) -> Signer<'_>,
        query: &str,
        body: &[u8],
    ) -> OwnedRequest {
        let (path, signer) = match self {
            Self::RequestToken => ("/_ah/OAuthGetRequestToken", h.consumer().callback(CALLBACK)),
            Self::AccessToken => (
                "/_ah/OAuthGetAccessToken",
                h.consumer().token(token.0, token.1).verifier(token.2),
            ),
            Self::Resource => ("/api/whoami", h.consumer().token(token.0, token.1)),
        };
        // The query and body are signed only as far as the client could.
        let url = format!("{ORIGIN}{path}");
        let mut request = h.signed(adjust(signer), "POST", &url);
        request.target.push_str(query);
        request.content_type = Some(FORM_CONTENT_TYPE.to_owned());
        request.body = body.to_vec();
        request
    }

    async fn send(self, h: &Harness, request: &OwnedRequest) -> oauth1_provider::Response {
        let view = request.view();
        match self {
            Self::RequestToken => h.provider.request_token(&view).await,
            Self::AccessToken => h.provider.access_token(&view).await,
            Self::Resource => match h.provider.authenticate(&view).await {
                Ok(_) => panic!("{request:?} authenticated"),
                Err(e) => e.to_response(""),
            },
        }
    }
}

/// `n` parameters `p=1`, joined with `&`.
fn parameters(n: usize) -> String {
    vec!["p=1"; n].join("&")
}

/// One input over its default limit: what is refused and why, a change to
/// the signer, a query (`?…`) and a body.
struct Oversized {
    input: &'static str,
    advice: &'static str,
    adjust: Box<dyn Fn(Signer<'_>) -> Signer<'_>>,
    query: String,
    body: Vec<u8>,
}

impl Oversized {
    fn new(input: &'static str, advice: &'static str) -> Self {
        Self {
            input,
            advice,
            adjust: Box::new(|s| s),
            query: String::new(),
            body: Vec::new(),
        }
    }
}

/// Each input over its default limit by `factor` (1: just over).
fn oversized(factor: usize) -> Vec<Oversized> {
    let limits = Limits::default();
    let over = |limit: usize| limit * factor + 1;
    let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
    let long_value = leak("v".repeat(over(limits.max_protocol_value_bytes)));
    let long_nonce = leak("n".repeat(over(limits.max_nonce_bytes)));
    let long_token = leak("t".repeat(over(limits.max_token_bytes)));
    let header_filler = leak("h".repeat(over(limits.max_authorization_header_bytes)));
    // A header over its own limit is refused as such first.
    let in_header = |advice| {
        if factor == 1 {
            advice
        } else {
            "the Authorization header is too large"
        }
    };
    vec![
        Oversized {
            adjust: Box::new(move |s| s.header_param("oauth_filler", header_filler)),
            ..Oversized::new(
                "Authorization header",
                "the Authorization header is too large",
            )
        },
        Oversized {
            // (Four times over at most: the test need not hold 100 MiB.)
            body: format!(
                "a={}",
                "b".repeat(limits.max_form_body_bytes * factor.min(4))
            )
            .into_bytes(),
            ..Oversized::new("form body", "the form body is too large")
        },
        Oversized {
            query: format!("?{}", parameters(over(limits.max_parameters))),
            ..Oversized::new("parameters in the query", "too many parameters")
        },
        Oversized {
            body: parameters(over(limits.max_parameters).min(limits.max_form_body_bytes / 4))
                .into_bytes(),
            ..Oversized::new("parameters in the body", "too many parameters")
        },
        Oversized {
            adjust: Box::new(move |s| s.header_param("oauth_x", long_value)),
            ..Oversized::new(
                "a protocol value",
                in_header("an OAuth protocol parameter is too long"),
            )
        },
        Oversized {
            adjust: Box::new(move |s| s.nonce(long_nonce)),
            ..Oversized::new("oauth_nonce", in_header("oauth_nonce is too long"))
        },
        Oversized {
            adjust: Box::new(move |s| s.token(long_token, "secret")),
            ..Oversized::new(
                "oauth_token",
                in_header("oauth_token or oauth_verifier is too long"),
            )
        },
        Oversized {
            adjust: Box::new(move |s| s.verifier(long_token)),
            ..Oversized::new(
                "oauth_verifier",
                in_header("oauth_token or oauth_verifier is too long"),
            )
        },
    ]
}

/// The refusal is 400 `parameter_rejected` and says why.
#[track_caller]
fn assert_rejected_for(response: &oauth1_provider::Response, case: &Oversized, at: Endpoint) {
    assert_refused(response, 400, "parameter_rejected");
    let advice = response
        .form_fields()
        .into_iter()
        .find(|(n, _)| n == "oauth_problem_advice")
        .map(|(_, v)| v);
    assert_eq!(
        advice.as_deref(),
        Some(case.advice),
        "{} at {at:?}",
        case.input
    );
}

#[test]
fn the_new_limits_default_as_documented() {
    let limits = Limits::default();
    assert_eq!(limits.max_token_bytes, 128);
    // Issued tokens and verifiers are far below it.
    assert!(limits.max_token_bytes >= 4 * 32);
}

#[tokio::test]
async fn every_input_just_over_its_limit_is_a_400_at_every_endpoint() {
    let h = harness();
    let (access, access_secret) = h.access_on(ORIGIN, alice()).await;
    let (token, secret, verifier) = h.approved_on(ORIGIN, alice()).await;
    for endpoint in ENDPOINTS {
        let credentials = match endpoint {
            Endpoint::AccessToken => (token.as_str(), secret.as_str(), verifier.as_str()),
            _ => (access.as_str(), access_secret.as_str(), ""),
        };
        // The request as built is accepted (the resource one authenticates).
        let fine = endpoint.request(&h, credentials, &|s| s, "", b"");
        if let Endpoint::Resource = endpoint {
            assert!(h.provider.authenticate(&fine.view()).await.is_ok());
        }
        for case in oversized(1) {
            if matches!(
                (endpoint, case.input),
                (
                    Endpoint::RequestToken | Endpoint::Resource,
                    "oauth_verifier"
                )
            ) {
                continue;
            }
            let request = endpoint.request(&h, credentials, &case.adjust, &case.query, &case.body);
            assert_rejected_for(&endpoint.send(&h, &request).await, &case, endpoint);
        }
    }
    // The exchange still works: nothing was used up by the refusals.
    assert_eq!(
        h.exchange_on(ORIGIN, &token, &secret, &verifier)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn input_far_past_the_limits_is_refused_without_allocating_in_proportion() {
    let h = harness();
    let (access, access_secret) = h.access_on(ORIGIN, alice()).await;
    let credentials = (access.as_str(), access_secret.as_str(), "");
    for case in oversized(100) {
        if case.input == "oauth_verifier" {
            continue;
        }
        let request =
            Endpoint::Resource.request(&h, credentials, &case.adjust, &case.query, &case.body);
        let size = request.target.len()
            + request.body.len()
            + request.authorization.as_ref().map_or(0, String::len);
        let (response, largest) = largest_allocation(Endpoint::Resource.send(&h, &request)).await;
        assert_rejected_for(&response, &case, Endpoint::Resource);
        assert!(
            largest < 64 * 1024,
            "{}: a {largest}-byte allocation for a {size}-byte request",
            case.input
        );
    }
    // The probe sees allocations.
    let (_, largest) = largest_allocation(async { vec![0u8; 100_000] }).await;
    assert!(largest >= 100_000);
}
