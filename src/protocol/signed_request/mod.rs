//! Request parameters (RFC 5849 §3.4.1.3): collected from the Authorization
//! header, the query and a form body, checked, and kept in their canonical
//! encoding ready for the base string.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::OnceLock;

use crate::protocol::authorization_header::{self, HeaderError};
use crate::protocol::base_string::BaseUri;
use crate::protocol::encoding::{
    Class, MalformedEncoding, RawComponent, count_byte, find_byte, percent_decode_into,
    percent_decode_str, reencode_into, split_component,
};
use crate::protocol::error::{Problem, ProtocolError};
use crate::protocol::request::Request;
use crate::protocol::signature::SignatureMethod;
use crate::protocol::timestamp::parse_timestamp;

mod verify;

/// Size limits on what the server reads from a request. Every limit answers
/// 400 `parameter_rejected` when exceeded, before anything proportional to the
/// input is allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest accepted `Authorization` header, in bytes. Defaults to 8 KiB.
    pub max_authorization_header_bytes: usize,
    /// Longest accepted form body that is parsed for parameters, in bytes.
    /// Defaults to 1 MiB.
    pub max_form_body_bytes: usize,
    /// Most parameters (header + query + body) in one request. Defaults to 512.
    pub max_parameters: usize,
    /// Longest value of any `oauth_*` parameter, decoded, in bytes (callback
    /// URLs are the longest real ones). Defaults to 2048.
    pub max_protocol_value_bytes: usize,
    /// Longest `oauth_nonce`, decoded, in bytes. Real clients send 8–64.
    /// Defaults to 128.
    pub max_nonce_bytes: usize,
    /// Longest `oauth_token` and `oauth_verifier`, decoded, in bytes: values
    /// this provider issued itself (32 characters), so a longer one is never
    /// looked up in the store. Defaults to 128.
    pub max_token_bytes: usize,
    /// Longest `scope` a request token records, decoded, in bytes: it is
    /// stored with the token until it expires. Defaults to 1 KiB.
    pub max_scope_bytes: usize,
    /// Longest `xoauth_displayname` a request token records, in characters:
    /// it is stored with the token and shown on the consent page. Defaults
    /// to 128.
    pub max_display_name_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_authorization_header_bytes: 8 * 1024,
            max_form_body_bytes: 1024 * 1024,
            max_parameters: 512,
            max_protocol_value_bytes: 2048,
            max_nonce_bytes: 128,
            max_token_bytes: 128,
            max_scope_bytes: 1024,
            max_display_name_chars: 128,
        }
    }
}

/// Where a request's OAuth protocol parameters were sent (RFC 5849 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterSource {
    /// The `Authorization` header (§3.5.1).
    Header,
    /// A form-encoded body (§3.5.2).
    Body,
    /// The query string (§3.5.3).
    Query,
}

/// One parameter in its canonical encoding (§3.4.1.3.2 step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param<'a> {
    pub(crate) name: Text<'a>,
    pub(crate) value: Text<'a>,
    /// Whether `name` and `value` have a `%XX` escape: text without one is
    /// written to the base string as it is.
    pub(crate) escaped: [bool; 2],
    /// The first 8 bytes of `name`, for sorting (see [`Param::cmp`]).
    name_prefix: u64,
}

impl Param<'_> {
    /// Orders parameters by encoded name, then encoded value (§3.4.1.3.2
    /// step 2). Most names differ in their first 8 bytes, so comparing those
    /// as one integer settles most comparisons without a string comparison.
    #[inline]
    fn cmp(&self, other: &Self, buffer: &str) -> Ordering {
        self.name_prefix.cmp(&other.name_prefix).then_with(|| {
            let text = |p: &Self| (p.name.get(buffer), p.value.get(buffer));
            text(self).cmp(&text(other))
        })
    }
}

/// Where a canonical name or value, or a decoded protocol value, is: in the
/// request, when the client sent it so (nearly always), or else in the buffer
/// that [`SignedRequest`] keeps for all rewritten text — one allocation for
/// them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text<'a> {
    Request(&'a str),
    Buffer { start: usize, end: usize },
}

impl<'a> Text<'a> {
    /// The text, given the request's buffer of rewritten text.
    fn get<'s>(self, buffer: &'s str) -> &'s str
    where
        'a: 's,
    {
        match self {
            Self::Request(text) => text,
            Self::Buffer { start, end } => &buffer[start..end],
        }
    }
}

/// A canonical name or value, and whether it has any `%XX` escape.
#[derive(Debug, Clone, Copy)]
struct Canonical<'a> {
    text: Text<'a>,
    escaped: bool,
}

impl Canonical<'_> {
    const EMPTY: Canonical<'static> = Canonical {
        text: Text::Request(""),
        escaped: false,
    };
}

/// The first 8 bytes of `name`, big-endian, zero-padded: ordered as the names
/// are, since a canonical name has no zero byte (that would be `%00`).
fn name_prefix(name: &str) -> u64 {
    match name.as_bytes().first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        // Byte by byte: a variable-length copy into an array would be a
        // `memcpy` call and a stalled load, on every parameter.
        None => (name.bytes())
            .zip((0..8).rev())
            .fold(0, |prefix, (b, i)| prefix | u64::from(b) << (8 * i)),
    }
}

/// The OAuth protocol parameters this crate knows, decoded — except
/// `signature`, kept canonically encoded: it is compared without decoding
/// (see [`SignedRequest::signature_encoded`]), and decoded only when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Protocol<'a> {
    consumer_key: Option<Text<'a>>,
    token: Option<Text<'a>>,
    signature_method: Option<Text<'a>>,
    signature: Option<Text<'a>>,
    timestamp: Option<Text<'a>>,
    nonce: Option<Text<'a>>,
    version: Option<Text<'a>>,
    callback: Option<Text<'a>>,
    verifier: Option<Text<'a>>,
    body_hash: Option<Text<'a>>,
}

impl<'a> Protocol<'a> {
    /// The slot of the protocol parameter `name`, if this crate tracks it,
    /// and whether it is `oauth_signature`. `name` starts with `oauth_`.
    ///
    /// Why not a `match` on the whole name: that compares it with one
    /// candidate after another. The length and the byte after `oauth_` tell
    /// the ten names apart, so only one full comparison is left — with a
    /// literal of a known length, which compiles to a few word compares
    /// instead of a `memcmp` call.
    fn slot(&mut self, name: &str) -> Option<(&mut Option<Text<'a>>, bool)> {
        let slot = match (name.len(), name.as_bytes().get(6)) {
            (18, Some(b'c')) if name == "oauth_consumer_key" => &mut self.consumer_key,
            (11, Some(b't')) if name == "oauth_token" => &mut self.token,
            (22, Some(b's')) if name == "oauth_signature_method" => &mut self.signature_method,
            (15, Some(b's')) if name == "oauth_signature" => {
                return Some((&mut self.signature, true));
            }
            (15, Some(b't')) if name == "oauth_timestamp" => &mut self.timestamp,
            (11, Some(b'n')) if name == "oauth_nonce" => &mut self.nonce,
            (13, Some(b'v')) if name == "oauth_version" => &mut self.version,
            (14, Some(b'c')) if name == "oauth_callback" => &mut self.callback,
            (14, Some(b'v')) if name == "oauth_verifier" => &mut self.verifier,
            (15, Some(b'b')) if name == "oauth_body_hash" => &mut self.body_hash,
            _ => return None,
        };
        Some((slot, false))
    }
}

/// `oauth_`, the start of every protocol parameter name, as the top six bytes
/// of a [`name_prefix`].
const PROTOCOL_PREFIX: u64 = u64::from_be_bytes(*b"oauth_\0\0") >> 16;

/// Whether the name with this [`name_prefix`] starts with `oauth_`: one
/// comparison instead of a string one, on every parameter.
fn is_protocol(name_prefix: u64) -> bool {
    name_prefix >> 16 == PROTOCOL_PREFIX
}

/// A request with its OAuth parameters collected and checked: everything the
/// signature covers, in the form the base string needs (RFC 5849 §3.4.1).
///
/// Built by [`SignedRequest::collect`], which rejects what no valid request
/// can contain. What an endpoint further needs is checked by
/// [`SignedRequest::require`]; the signature by
/// [`SignedRequest::verify_signature`].
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) scheme: &'a str,
    pub(crate) authority: &'a str,
    pub(crate) path: &'a str,
    /// The base string URI (§3.4.1.2) of `scheme`, `authority` and `path`,
    /// split once for the signature and the host check; `None` when the
    /// authority is malformed.
    uri: Option<BaseUri<'a>>,
    /// Every parameter but `oauth_signature` (and the header's `realm`),
    /// canonically encoded, sorted by name then value.
    pub(crate) params: Vec<Param<'a>>,
    /// Rewritten text: names and values that were not sent canonically,
    /// re-encoded, and protocol values that needed decoding.
    buffer: String,
    protocol: Protocol<'a>,
    /// `oauth_signature` decoded, once [`SignedRequest::signature`] asks
    /// for it and only when it has escapes.
    signature_decoded: OnceLock<String>,
    method_parsed: Option<SignatureMethod>,
    /// `oauth_timestamp` in seconds, parsed once (`None` when absent or not
    /// a number).
    timestamp_secs: Option<u64>,
    source: Option<ParameterSource>,
    realm: Option<&'a str>,
}

fn rejected(advice: &'static str) -> ProtocolError {
    ProtocolError::new(Problem::ParameterRejected).with_advice(advice)
}

fn malformed(_: MalformedEncoding) -> ProtocolError {
    rejected("malformed percent-encoding in a parameter")
}

impl<'a> SignedRequest<'a> {
    /// Collects the parameters of `request` (§3.4.1.3.1) and checks them:
    ///
    /// - the header, query and (form) body are each within `limits`;
    /// - names and values are well-formed percent-encoding (query and body
    ///   with `+` as a space, the header without);
    /// - protocol (`oauth_*`) parameters come from one place only and none is
    ///   repeated — else 400 `parameter_rejected`;
    /// - `oauth_version`, when present, is `1.0` — or `1.0a` / `1.0A`, which
    ///   clients such as node-oauth send for 1.0a and which is signed like any
    ///   other parameter (a provider may still refuse it, see
    ///   [`SignedRequest::version_is_1_0a`]) — else 400 `version_rejected`;
    /// - `oauth_signature_method`, when present, is one this crate knows —
    ///   else 400 `signature_method_rejected`.
    ///
    /// An `Authorization` header with another scheme (`Basic`, `Bearer`) is
    /// not OAuth and is ignored.
    pub fn collect(request: &Request<'a>, limits: &Limits) -> Result<Self, ProtocolError> {
        let mut collector = Collector {
            params: Vec::new(),
            buffer: String::new(),
            protocol: Protocol::default(),
            source: None,
            realm: None,
            limits,
        };
        let (path, query) = request.path_and_query();
        let body = if request.body_is_form() && !request.body.is_empty() {
            if request.body.len() > limits.max_form_body_bytes {
                return Err(rejected("the form body is too large"));
            }
            Some(std::str::from_utf8(request.body).map_err(|_| {
                rejected("the form body is not UTF-8 (percent-encode non-ASCII bytes)")
            })?)
        } else {
            None
        };
        let header = match request.authorization {
            // Another scheme (`Basic`, `Negotiate`) is ignored, whatever its size.
            Some(h) => match authorization_header::raw_pairs(h) {
                Ok(_) if h.len() > limits.max_authorization_header_bytes => {
                    return Err(rejected("the Authorization header is too large"));
                }
                Ok(pairs) => Some(pairs),
                Err(HeaderError::NotOAuth) => None,
                Err(_) => return Err(rejected("malformed Authorization header")),
            },
            None => None,
        };
        // One allocation for the parameter list, sized from a cheap estimate.
        let estimate = 12
            + query.map_or(0, |q| count_byte(q.as_bytes(), b'&') + 1)
            + body.map_or(0, |b| count_byte(b.as_bytes(), b'&') + 1);
        collector
            .params
            .reserve(estimate.min(limits.max_parameters.saturating_add(1)));

        if let Some(pairs) = header {
            for pair in pairs {
                let (name, value) = pair.map_err(|_| rejected("malformed Authorization header"))?;
                if name.raw == "realm" {
                    collector.realm = Some(value.raw);
                    continue;
                }
                collector.add_header_param(name, value)?;
            }
        }
        if let Some(query) = query {
            collector.add_form(query, ParameterSource::Query)?;
        }
        if let Some(body) = body {
            collector.add_form(body, ParameterSource::Body)?;
        }
        collector.finish(request, path)
    }

    /// Checks that the parameters every signed request needs are present —
    /// `oauth_consumer_key`, `oauth_signature_method`, `oauth_signature`, and
    /// `oauth_timestamp` and `oauth_nonce` unless the method is `PLAINTEXT`
    /// (§3.1) — plus `extra` (e.g. `oauth_token`, `oauth_verifier`).
    /// Missing ones → 400 `parameter_absent` naming them all; a signature
    /// method this crate does not implement → 400 `signature_method_rejected`
    /// (collection itself accepts any name, so that a base string can still
    /// be shown for it).
    pub fn require(&self, extra: &[&'static str]) -> Result<(), ProtocolError> {
        let p = &self.protocol;
        let plaintext = self.method_parsed == Some(SignatureMethod::Plaintext);
        let mut missing = Vec::new();
        let mut need = |name: &'static str, present: bool| {
            if !present {
                missing.push(name);
            }
        };
        need("oauth_consumer_key", p.consumer_key.is_some());
        need("oauth_signature_method", p.signature_method.is_some());
        need("oauth_signature", p.signature.is_some());
        need("oauth_timestamp", plaintext || p.timestamp.is_some());
        need("oauth_nonce", plaintext || p.nonce.is_some());
        for &name in extra {
            let present = match name {
                "oauth_token" => self.token().is_some(),
                "oauth_callback" => p.callback.is_some(),
                "oauth_verifier" => p.verifier.is_some(),
                other => self.canonical_params().any(|(n, _, _)| n == other),
            };
            need(name, present);
        }
        if !missing.is_empty() {
            return Err(ProtocolError::parameters_absent(missing));
        }
        if self.method_parsed.is_none() {
            return Err(ProtocolError::new(Problem::SignatureMethodRejected));
        }
        Ok(())
    }

    /// The HTTP method as received.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// Where the protocol parameters were sent; `None` when there were none.
    pub fn parameter_source(&self) -> Option<ParameterSource> {
        self.source
    }

    /// The `realm` of the Authorization header (not signed), raw.
    pub fn realm(&self) -> Option<&'a str> {
        self.realm
    }

    /// `oauth_consumer_key`, decoded.
    pub fn consumer_key(&self) -> Option<&str> {
        self.protocol_text(self.protocol.consumer_key)
    }

    /// `oauth_token`, decoded. An empty value counts as absent (some clients
    /// send `oauth_token=""` on the temporary-credentials request).
    pub fn token(&self) -> Option<&str> {
        self.protocol_text(self.protocol.token)
            .filter(|t| !t.is_empty())
    }

    /// `oauth_signature_method`, when it is one this crate knows.
    pub fn signature_method(&self) -> Option<SignatureMethod> {
        self.method_parsed
    }

    /// `oauth_signature_method` as sent, decoded.
    pub fn signature_method_name(&self) -> Option<&str> {
        self.protocol_text(self.protocol.signature_method)
    }

    /// `oauth_signature`, decoded (the base64 text, not its bytes).
    pub fn signature(&self) -> Option<&str> {
        let encoded = self.signature_encoded()?;
        if find_byte(encoded.as_bytes(), b'%').is_none() {
            return Some(encoded);
        }
        // Checked to decode to UTF-8 by `collect`.
        Some(self.signature_decoded.get_or_init(|| {
            percent_decode_str(encoded, false).map_or_else(String::new, Cow::into_owned)
        }))
    }

    /// `oauth_signature` in its canonical encoding, as verification compares
    /// it: no decoding (nor its allocation) on the way.
    pub(crate) fn signature_encoded(&self) -> Option<&str> {
        self.protocol_text(self.protocol.signature)
    }

    /// `oauth_timestamp`, decoded, as sent.
    pub fn timestamp(&self) -> Option<&str> {
        self.protocol_text(self.protocol.timestamp)
    }

    /// `oauth_timestamp` in seconds: `None` when absent or not a number.
    pub(crate) fn timestamp_secs(&self) -> Option<u64> {
        self.timestamp_secs
    }

    /// `oauth_nonce`, decoded.
    pub fn nonce(&self) -> Option<&str> {
        self.protocol_text(self.protocol.nonce)
    }

    /// `oauth_version`, decoded: `1.0`, `1.0a` or `1.0A` when present
    /// (others are rejected).
    pub fn version(&self) -> Option<&str> {
        self.protocol_text(self.protocol.version)
    }

    /// Whether `oauth_version` is `1.0a` or `1.0A` rather than RFC 5849's
    /// `1.0` (§3.1): accepted by collection, refused by a provider
    /// configured to be strict about it.
    pub fn version_is_1_0a(&self) -> bool {
        self.version().is_some_and(|v| v != "1.0")
    }

    /// `oauth_callback`, decoded.
    pub fn callback(&self) -> Option<&str> {
        self.protocol_text(self.protocol.callback)
    }

    /// `oauth_verifier`, decoded.
    pub fn verifier(&self) -> Option<&str> {
        self.protocol_text(self.protocol.verifier)
    }

    /// `oauth_body_hash` (the Request Body Hash extension), decoded.
    pub fn body_hash(&self) -> Option<&str> {
        self.protocol_text(self.protocol.body_hash)
    }

    /// The first value of a parameter by its decoded name, decoded; `None` when
    /// absent or not UTF-8. Covers every signed parameter (not `oauth_signature`).
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.canonical_params()
            .find(|(n, _, _)| percent_decode_str(n, false).is_some_and(|n| n == name))
            .and_then(|(_, value, _)| percent_decode_str(value, false))
    }

    /// Every signed parameter as `(name, value)`, each in its OAuth encoding,
    /// in normalized order (§3.4.1.3.2).
    pub fn encoded_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.canonical_params()
            .map(|(name, value, _)| (name, value))
    }

    fn protocol_text(&self, value: Option<Text<'a>>) -> Option<&str> {
        value.map(|text| text.get(&self.buffer))
    }

    /// Every signed parameter as `(name, value, escaped)`: in its OAuth
    /// encoding, in normalized order, and whether each has a `%XX` escape.
    pub(crate) fn canonical_params(&self) -> impl Iterator<Item = (&str, &str, [bool; 2])> {
        self.params.iter().map(|p| {
            let (name, value) = (p.name.get(&self.buffer), p.value.get(&self.buffer));
            (name, value, p.escaped)
        })
    }
}

struct Collector<'a, 'l> {
    params: Vec<Param<'a>>,
    buffer: String,
    protocol: Protocol<'a>,
    source: Option<ParameterSource>,
    realm: Option<&'a str>,
    limits: &'l Limits,
}

impl<'a> Collector<'a, '_> {
    fn add_form(&mut self, form: &'a str, source: ParameterSource) -> Result<(), ProtocolError> {
        let mut rest = form;
        while !rest.is_empty() {
            // An empty pair (`a=1&&b=2`) is no parameter.
            if let Some(after) = rest.strip_prefix('&') {
                rest = after;
                continue;
            }
            self.make_room()?;
            let (name, after) = split_component(rest, Class::FORM_NAME);
            let name = self.canonical(name, true)?;
            let (value, after) = match after.strip_prefix('=') {
                Some(after) => {
                    let (value, after) = split_component(after, Class::FORM_VALUE);
                    (self.canonical(value, true)?, after)
                }
                None => (Canonical::EMPTY, after),
            };
            rest = after.strip_prefix('&').unwrap_or(after);
            self.add(name, value, source)?;
        }
        Ok(())
    }

    fn add_header_param(
        &mut self,
        name: RawComponent<'a>,
        value: RawComponent<'a>,
    ) -> Result<(), ProtocolError> {
        self.make_room()?;
        // No `+`-as-space in the header (§3.5.1).
        let name = self.canonical(name, false)?;
        let value = self.canonical(value, false)?;
        self.add(name, value, ParameterSource::Header)
    }

    /// A name or value as canonical text: as sent when it already is, else
    /// re-encoded.
    fn canonical(
        &mut self,
        component: RawComponent<'a>,
        plus_as_space: bool,
    ) -> Result<Canonical<'a>, ProtocolError> {
        if let Some(escaped) = component.canonical {
            let text = Text::Request(component.raw);
            return Ok(Canonical { text, escaped });
        }
        let start = self.buffer.len();
        let escaped =
            reencode_into(component.raw, plus_as_space, &mut self.buffer).map_err(malformed)?;
        let end = self.buffer.len();
        let text = Text::Buffer { start, end };
        Ok(Canonical { text, escaped })
    }

    /// Refuses one parameter more than `limits.max_parameters`, before it is
    /// decoded.
    fn make_room(&self) -> Result<(), ProtocolError> {
        if self.params.len() >= self.limits.max_parameters {
            return Err(rejected("too many parameters"));
        }
        Ok(())
    }

    #[inline(always)]
    fn add(
        &mut self,
        name: Canonical<'a>,
        value: Canonical<'a>,
        source: ParameterSource,
    ) -> Result<(), ProtocolError> {
        let name_text = name.text.get(&self.buffer);
        let name_prefix = name_prefix(name_text);
        if is_protocol(name_prefix) {
            match self.source {
                None => self.source = Some(source),
                Some(first) if first != source => {
                    return Err(rejected(
                        "OAuth protocol parameters must be sent in one place only",
                    ));
                }
                Some(_) => {}
            }
            // Decoding never lengthens the text: only a value longer than
            // the limit as sent needs its decoded length.
            let encoded = value.text.get(&self.buffer);
            let limit = self.limits.max_protocol_value_bytes;
            if encoded.len() > limit && decoded_len(encoded, value.escaped) > limit {
                return Err(rejected("an OAuth protocol parameter is too long"));
            }
            if let Some((slot, is_signature)) = self.protocol.slot(name_text) {
                if slot.is_some() {
                    return Err(rejected("an OAuth protocol parameter is repeated"));
                }
                if is_signature {
                    check_decodes_to_utf8(value, &self.buffer)?;
                    *slot = Some(value.text);
                    // Signed over everything but the signature itself (§3.4.1.3.1).
                    return Ok(());
                }
                *slot = Some(decode_protocol_value(value, &mut self.buffer)?);
            }
        }
        self.params.push(Param {
            name: name.text,
            value: value.text,
            escaped: [name.escaped, value.escaped],
            name_prefix,
        });
        Ok(())
    }

    fn finish(
        mut self,
        request: &Request<'a>,
        path: &'a str,
    ) -> Result<SignedRequest<'a>, ProtocolError> {
        let buffer = &self.buffer;
        let protocol = &self.protocol;
        if protocol
            .version
            .is_some_and(|v| !matches!(v.get(buffer), "1.0" | "1.0a" | "1.0A"))
        {
            return Err(ProtocolError::new(Problem::VersionRejected));
        }
        if protocol
            .nonce
            .is_some_and(|n| n.get(buffer).len() > self.limits.max_nonce_bytes)
        {
            return Err(rejected("oauth_nonce is too long"));
        }
        let too_long = |value: Option<Text<'_>>| {
            value.is_some_and(|v| v.get(buffer).len() > self.limits.max_token_bytes)
        };
        if too_long(protocol.token) || too_long(protocol.verifier) {
            return Err(rejected("oauth_token or oauth_verifier is too long"));
        }
        let method_parsed = protocol
            .signature_method
            .and_then(|m| SignatureMethod::from_name(m.get(buffer)));
        let timestamp_secs = protocol
            .timestamp
            .and_then(|t| parse_timestamp(t.get(buffer)));
        sort_params(&mut self.params, buffer);
        // A repeated `oauth_*` parameter this crate does not track by name
        // (e.g. `oauth_session_handle`) is adjacent after sorting.
        if self.params.windows(2).any(|w| {
            let (a, b) = (w[0].name.get(buffer), w[1].name.get(buffer));
            w[0].name_prefix == w[1].name_prefix && is_protocol(w[0].name_prefix) && a == b
        }) {
            return Err(rejected("an OAuth protocol parameter is repeated"));
        }
        Ok(SignedRequest {
            method: request.method,
            scheme: request.scheme,
            authority: request.authority,
            path,
            uri: BaseUri::new(request.scheme, request.authority, path).ok(),
            params: self.params,
            buffer: self.buffer,
            protocol: self.protocol,
            signature_decoded: OnceLock::new(),
            method_parsed,
            timestamp_secs,
            source: self.source,
            realm: self.realm,
        })
    }
}

/// Sorts parameters by encoded name, then encoded value (§3.4.1.3.2 step 2).
/// Equal entries are identical, so an unstable sort is exact.
fn sort_params(params: &mut Vec<Param<'_>>, buffer: &str) {
    // A sort moves its elements around: past a few dozen parameters, sort
    // small (name prefix, index) keys and move each parameter once.
    if params.len() <= 32 {
        params.sort_unstable_by(|a, b| a.cmp(b, buffer));
        return;
    }
    let mut keys: Vec<(u64, usize)> = (params.iter().enumerate())
        .map(|(i, p)| (p.name_prefix, i))
        .collect();
    keys.sort_unstable_by(|a, b| {
        (a.0.cmp(&b.0)).then_with(|| params[a.1].cmp(&params[b.1], buffer))
    });
    *params = keys.iter().map(|&(_, i)| params[i].clone()).collect();
}

/// The decoded length of canonical text: each `%XX` decodes to one byte.
/// Asked only of a value longer than its limit as sent: kept out of line.
#[cold]
fn decoded_len(canonical: &str, escaped: bool) -> usize {
    match escaped {
        true => canonical.len() - 2 * count_byte(canonical.as_bytes(), b'%'),
        false => canonical.len(),
    }
}

/// Refuses a canonical protocol value that does not decode to UTF-8, as
/// [`decode_protocol_value`] would, without decoding it when every escape
/// is ASCII (`%00`–`%7F`): then the decoded text is ASCII too.
fn check_decodes_to_utf8(value: Canonical<'_>, buffer: &str) -> Result<(), ProtocolError> {
    let encoded = value.text.get(buffer);
    let mut rest = encoded.as_bytes();
    let mut non_ascii_escape = false;
    while value.escaped
        && let Some(i) = find_byte(rest, b'%')
    {
        // Canonical escapes are upper-case hex: `%80` and up is not ASCII.
        non_ascii_escape |= !matches!(rest.get(i + 1), Some(b'0'..=b'7'));
        rest = &rest[i + 1..];
    }
    if non_ascii_escape && percent_decode_str(encoded, false).is_none() {
        return Err(rejected("an OAuth protocol parameter is not UTF-8"));
    }
    Ok(())
}

/// The decoded form of a canonical protocol value: as it is when it has no
/// escape, which is the common case; else decoded into `buffer`.
fn decode_protocol_value<'a>(
    value: Canonical<'a>,
    buffer: &mut String,
) -> Result<Text<'a>, ProtocolError> {
    if !value.escaped {
        return Ok(value.text);
    }
    // A re-encoded value is itself in `buffer`: copy it out first (rare).
    let encoded = match value.text {
        Text::Request(text) => Cow::Borrowed(text),
        text => Cow::Owned(text.get(buffer).to_owned()),
    };
    let start = buffer.len();
    percent_decode_into(&encoded, buffer)
        .ok_or_else(|| rejected("an OAuth protocol parameter is not UTF-8"))?;
    let end = buffer.len();
    Ok(Text::Buffer { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(req: Request<'_>) -> Result<SignedRequest<'_>, ProtocolError> {
        SignedRequest::collect(&req, &Limits::default())
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn parameters_are_sorted_by_name_then_value_at_every_size() {
        // Names that share their first 8 bytes, repeated names, prefixes
        // of each other, and values that decide the order.
        const NAMES: [&str; 8] = [
            "a",
            "ab",
            "abcdefgh",
            "abcdefgh1",
            "abcdefgh2",
            "b",
            "p1",
            "p10",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for n in [0, 1, 2, 31, 32, 33, 40, 100, 200] {
            let query: Vec<String> = (0..n)
                .map(|_| {
                    let name = NAMES[next(NAMES.len() as u64) as usize];
                    format!("{name}={}", next(5))
                })
                .collect();
            let target = format!("/?{}", query.join("&"));
            let signed = collect(Request::new("GET", "http", "h", &target)).unwrap();
            let got: Vec<(&str, &str)> = signed.encoded_params().collect();
            let mut expected: Vec<(&str, &str)> = (query.iter())
                .map(|pair| pair.split_once('=').unwrap())
                .collect();
            expected.sort();
            assert_eq!(got, expected, "{n} parameters");
        }
    }

    #[test]
    fn rejects_protocol_parameters_in_two_places() {
        let r = Request::new("GET", "http", "h", "/?oauth_nonce=1")
            .authorization(Some("OAuth oauth_consumer_key=\"k\""));
        let e = collect(r).unwrap_err();
        assert_eq!((e.status(), e.problem()), (400, Problem::ParameterRejected));
    }

    #[test]
    fn rejects_repeated_protocol_parameters() {
        for target in [
            "/?oauth_nonce=1&oauth_nonce=2",
            "/?oauth_body_hash=a&oauth_body_hash=b",
            "/?oauth_session_handle=a&oauth_session_handle=b",
            "/?oauth_signature=a&oauth_signature=b",
        ] {
            let e = collect(Request::new("GET", "http", "h", target)).unwrap_err();
            assert_eq!(e.problem(), Problem::ParameterRejected, "{target}");
        }
        // Non-protocol names may repeat.
        assert!(collect(Request::new("GET", "http", "h", "/?a=1&a=2")).is_ok());
    }

    #[test]
    fn version_and_method_are_checked() {
        let e = collect(Request::new("GET", "http", "h", "/?oauth_version=2.0")).unwrap_err();
        assert_eq!((e.status(), e.problem()), (400, Problem::VersionRejected));
        for version in ["1.0a", "1.0A"] {
            let target = format!("/?oauth_version={version}");
            let r = collect(Request::new("GET", "http", "h", &target)).unwrap();
            assert_eq!(r.version(), Some(version));
            assert!(r.version_is_1_0a());
        }
        let r = collect(Request::new(
            "GET",
            "http",
            "h",
            "/?oauth_signature_method=MD5&oauth_consumer_key=k&oauth_signature=s&oauth_nonce=n&oauth_timestamp=1",
        ))
        .unwrap();
        assert_eq!(r.signature_method_name(), Some("MD5"));
        assert_eq!(r.signature_method(), None);
        let e = r.require(&[]).unwrap_err();
        assert_eq!(
            (e.status(), e.problem()),
            (400, Problem::SignatureMethodRejected)
        );
    }

    #[test]
    fn require_lists_every_missing_parameter() {
        let r = collect(Request::new("GET", "http", "h", "/?oauth_consumer_key=k")).unwrap();
        let e = r.require(&["oauth_token"]).unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.missing_parameters(),
            [
                "oauth_signature_method",
                "oauth_signature",
                "oauth_timestamp",
                "oauth_nonce",
                "oauth_token"
            ]
        );
    }

    #[test]
    fn plaintext_may_omit_timestamp_and_nonce() {
        let r = collect(Request::new(
            "GET",
            "https",
            "h",
            "/?oauth_consumer_key=k&oauth_signature_method=PLAINTEXT&oauth_signature=a%26",
        ))
        .unwrap();
        assert!(r.require(&[]).is_ok());
    }

    #[test]
    fn the_signature_is_kept_encoded_and_decoded_on_demand() {
        let target = "/?oauth_signature=a%2Bb%3D&oauth_nonce=n";
        let r = collect(Request::new("GET", "http", "h", target)).unwrap();
        assert_eq!(r.signature_encoded(), Some("a%2Bb%3D"));
        assert_eq!(r.signature(), Some("a+b="));
        let r = collect(Request::new("GET", "http", "h", "/?oauth_signature=%C3%BC")).unwrap();
        assert_eq!(r.signature(), Some("ü"));
        let r = collect(Request::new("GET", "http", "h", "/?oauth_signature=plain")).unwrap();
        assert_eq!(r.signature(), Some("plain"));
        // Not UTF-8 once decoded: refused at collection, as every protocol value.
        let e = collect(Request::new("GET", "http", "h", "/?oauth_signature=a%FF")).unwrap_err();
        assert_eq!((e.status(), e.problem()), (400, Problem::ParameterRejected));
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_parameters: 3,
            max_form_body_bytes: 10,
            max_authorization_header_bytes: 20,
            max_nonce_bytes: 4,
            max_token_bytes: 5,
            ..Limits::default()
        };
        let many = Request::new("GET", "http", "h", "/?a&b&c&d");
        let long_body =
            Request::new("POST", "http", "h", "/").form_body(Some(FORM), b"a=12345678901");
        let long_header = Request::new("GET", "http", "h", "/")
            .authorization(Some("OAuth oauth_nonce=\"123456789012\""));
        let long_nonce = Request::new("GET", "http", "h", "/?oauth_nonce=12345");
        let long_token = Request::new("GET", "http", "h", "/?oauth_token=123456");
        let long_verifier = Request::new("GET", "http", "h", "/?oauth_verifier=1%2B3456");
        for r in [
            many,
            long_body,
            long_header,
            long_nonce,
            long_token,
            long_verifier,
        ] {
            let e = SignedRequest::collect(&r, &limits).unwrap_err();
            assert_eq!((e.status(), e.problem()), (400, Problem::ParameterRejected));
        }
    }

    #[test]
    fn non_form_bodies_and_other_schemes_are_ignored() {
        let r = Request::new("POST", "http", "h", "/")
            .authorization(Some("Basic dXNlcjpwYXNz"))
            .form_body(Some("application/json"), b"{\"oauth_nonce\":1}");
        let r = collect(r).unwrap();
        assert!(r.params.is_empty());
        assert_eq!(r.parameter_source(), None);
    }

    #[test]
    fn malformed_input_is_a_400() {
        for r in [
            Request::new("GET", "http", "h", "/?a=%zz"),
            Request::new("GET", "http", "h", "/").authorization(Some("OAuth a=\"1")),
            Request::new("GET", "http", "h", "/?oauth_token=%FF"),
            Request::new("GET", "http", "h", "/?oauth_body_hash=%FF"),
            Request::new("POST", "http", "h", "/").form_body(Some(FORM), b"a=\xff"),
        ] {
            let e = collect(r).unwrap_err();
            assert_eq!((e.status(), e.problem()), (400, Problem::ParameterRejected));
        }
        // A non-UTF-8 byte in an ordinary parameter is signed as the byte it is.
        assert!(collect(Request::new("GET", "http", "h", "/?a=%FF")).is_ok());
    }
}
