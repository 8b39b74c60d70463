//! The opt-in protocol extensions, from the command line: RSA consumers,
//! two-legged requests, requestor domains, required body hashes, sessions.

use oauth1_provider::{Consumer, ProviderConfig};

/// The opt-in protocol extensions, from the command line: all of them in
/// one place.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// `--rsa-consumer KEY:PEM_FILE[:NAME]`: (key, PEM text, name).
    pub rsa_consumers: Vec<(String, String, String)>,
    /// `--two-legged KEY`: consumers allowed two-legged requests.
    pub two_legged: Vec<String>,
    /// `--requestor-domain KEY:DOMAIN`: whose users a consumer may act for
    /// with `xoauth_requestor_id`.
    pub requestor_domains: Vec<(String, String)>,
    /// `--require-body-hash KEY`: consumers whose non-form requests must
    /// carry `oauth_body_hash`.
    pub body_hash_required: Vec<String>,
    /// `--sessions SECONDS`: the OAuth Session extension, access tokens
    /// living this long (refreshable for 30 days).
    pub session_ttl: Option<std::time::Duration>,
    /// `--earlier-grants keep`: a new grant of an app by a user leaves the
    /// earlier ones (apps that authorize each device); `replace`, the
    /// default, revokes them.
    pub keep_earlier_grants: bool,
}

impl Extensions {
    /// The flags, for the usage line.
    pub const USAGE: &'static str = "[--rsa-consumer KEY:PEM_FILE[:NAME]]... [--two-legged KEY]... \
        [--requestor-domain KEY:DOMAIN]... [--require-body-hash KEY]... [--sessions SECONDS] [--earlier-grants replace|keep]";

    /// Takes one extension flag and its value; `None` when `flag` is not one.
    pub fn parse_flag(&mut self, flag: &str, value: &str) -> Option<Result<(), String>> {
        let pair = |usage: &str| {
            value
                .split_once(':')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .ok_or_else(|| format!("{flag} takes {usage}"))
        };
        Some(match flag {
            "--rsa-consumer" => pair("KEY:PEM_FILE[:NAME]").and_then(|(key, rest)| {
                let (file, name) = rest.split_once(':').unwrap_or((&rest, &key));
                let pem = std::fs::read_to_string(file)
                    .map_err(|e| format!("--rsa-consumer: cannot read {file}: {e}"))?;
                self.rsa_consumers.push((key.clone(), pem, name.to_owned()));
                Ok(())
            }),
            "--two-legged" => {
                self.two_legged.push(value.to_owned());
                Ok(())
            }
            "--sessions" => match value.parse::<u64>() {
                Ok(secs) if secs > 0 => {
                    self.session_ttl = Some(std::time::Duration::from_secs(secs));
                    Ok(())
                }
                _ => Err("--sessions takes a number of seconds".to_owned()),
            },
            "--require-body-hash" => {
                self.body_hash_required.push(value.to_owned());
                Ok(())
            }
            "--requestor-domain" => pair("KEY:DOMAIN").map(|p| self.requestor_domains.push(p)),
            "--earlier-grants" => match value {
                "replace" | "keep" => {
                    self.keep_earlier_grants = value == "keep";
                    Ok(())
                }
                _ => Err("--earlier-grants takes `replace` or `keep`".to_owned()),
            },
            _ => return None,
        })
    }

    /// The RSA consumers, their keys read.
    pub(super) fn rsa_consumers(&self) -> Result<Vec<Consumer>, String> {
        self.rsa_consumers
            .iter()
            .map(|(key, pem, name)| {
                let public = oauth1_provider::protocol::ConsumerPublicKey::from_pem(pem)
                    .map_err(|e| format!("--rsa-consumer {key}: {e}"))?;
                Ok(Consumer::rsa(key, public, name))
            })
            .collect()
    }

    /// The provider configuration these extensions ask for.
    pub(super) fn provider_config(&self) -> ProviderConfig {
        let mut config = ProviderConfig::default();
        if let Some(ttl) = self.session_ttl {
            let mut sessions = oauth1_provider::provider::SessionConfig::default();
            sessions.access_token_ttl = ttl;
            config.sessions = Some(sessions);
        }
        config.replace_earlier_grants = !self.keep_earlier_grants;
        config
    }

    /// Applies the per-consumer switches to `consumer`.
    pub(super) fn configure(&self, consumer: Consumer) -> Consumer {
        let two_legged = self.two_legged.contains(&consumer.key);
        let body_hash = self.body_hash_required.contains(&consumer.key);
        let domains: Vec<&String> = self
            .requestor_domains
            .iter()
            .filter(|(key, _)| *key == consumer.key)
            .map(|(_, domain)| domain)
            .collect();
        domains.into_iter().fold(
            consumer.two_legged(two_legged).require_body_hash(body_hash),
            |c, d| c.act_for_domain(d),
        )
    }
}
