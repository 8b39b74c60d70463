//! The consumer's side of OAuth 1.0a's three legs, against the demo provider
//! (`cargo run --example provider`) or any provider with App Engine's paths:
//!
//! ```text
//! cargo run --example consumer [-- --provider URL --key KEY --secret SECRET]
//! ```
//!
//! 1. gets a request token, with callback `oob` (RFC 5849 §2.1);
//! 2. prints the authorize URL for you to open, sign in and allow (§2.2);
//! 3. reads the code the page shows from standard input (a pipe works too);
//! 4. exchanges it for an access token (§2.3), then calls `/api/whoami`
//!    with a signed request (§3) and prints the answer.
//!
//! Requests are signed with the crate's [`Signer`]; the HTTP client is a few
//! lines of HTTP/1.1 over a `TcpStream` (plain `http://` only) to keep the
//! example free of dependencies.

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use oauth1_provider::SignatureMethod;
use oauth1_provider::client::Signer;
use oauth1_provider::protocol::{parse_form, percent_encode};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str =
    "usage: consumer [--provider http://127.0.0.1:8080] [--key anonymous] [--secret anonymous]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let (mut provider, mut key, mut secret) = (
        "http://127.0.0.1:8080".to_owned(),
        "anonymous".to_owned(),
        "anonymous".to_owned(),
    );
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--provider" => &mut provider,
            "--key" => &mut key,
            "--secret" => &mut secret,
            _ => return Err(USAGE.into()),
        };
        *slot = args.next().ok_or(USAGE)?;
    }
    let base = provider.trim_end_matches('/');
    let consumer = Signer::new(SignatureMethod::HmacSha1, &key, &secret);

    // 1. Temporary credentials. The form body is signed too.
    let url = format!("{base}/_ah/OAuthGetRequestToken");
    let body = "xoauth_displayname=Consumer%20example";
    let header = consumer.clone().callback("oob").authorization_header(
        "POST",
        &url,
        Some(body.as_bytes()),
    )?;
    let reply = http("POST", &url, &header, Some(body))?;
    let token = field(&reply, "oauth_token")?;
    let token_secret = field(&reply, "oauth_token_secret")?;
    println!("1. Request token: {token}");

    // 2. The user's turn.
    println!(
        "2. Open this page, sign in and allow access:\n\n   {base}/_ah/OAuthAuthorizeToken?oauth_token={}\n",
        percent_encode(&token)
    );

    // 3. The verifier the page shows.
    print!("3. Paste the code it shows: ");
    std::io::stdout().flush()?;
    let mut verifier = String::new();
    std::io::stdin().lock().read_line(&mut verifier)?;
    let verifier = verifier.trim();

    // 4. Token credentials.
    let url = format!("{base}/_ah/OAuthGetAccessToken");
    let header = consumer
        .clone()
        .token(&token, &token_secret)
        .verifier(verifier)
        .authorization_header("POST", &url, None)?;
    let reply = http("POST", &url, &header, None)?;
    let access = field(&reply, "oauth_token")?;
    let access_secret = field(&reply, "oauth_token_secret")?;
    println!("\n4. Access token: {access}");

    // A signed call to the provider's API, with `+` and UTF-8 in the query.
    let url = format!("{base}/api/whoami?greeting=hello+world&lang=%C3%BC");
    let header = consumer
        .token(&access, &access_secret)
        .authorization_header("GET", &url, None)?;
    let reply = http("GET", &url, &header, None)?;
    println!("   GET /api/whoami → {} {}", reply.status, reply.body);
    if reply.status == 200 {
        Ok(())
    } else {
        Err("the signed call was refused".into())
    }
}

struct Reply {
    status: u16,
    body: String,
}

/// A decoded field of a successful form-encoded answer.
fn field(reply: &Reply, name: &str) -> Result<String> {
    if reply.status != 200 {
        return Err(format!("the provider answered {}: {}", reply.status, reply.body).into());
    }
    parse_form(&reply.body)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .ok_or_else(|| format!("no {name} in {}", reply.body).into())
}

/// One HTTP/1.1 request over a fresh connection; `form` is sent as
/// `application/x-www-form-urlencoded`.
fn http(method: &str, url: &str, authorization: &str, form: Option<&str>) -> Result<Reply> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("this example speaks plain http:// only")?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(split);
    let target = match target {
        "" => "/".to_owned(),
        t if t.starts_with('?') => format!("/{t}"),
        t => t.to_owned(),
    };
    let address = if authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.contains(']'))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = form.unwrap_or("");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {authorization}\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if form.is_some() {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8(raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("a truncated response")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("a malformed status line")?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok(Reply { status, body })
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut body: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or("a truncated chunk")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).ok_or("a truncated chunk")?);
        body = rest.get(size + 2..).ok_or("a truncated chunk")?;
    }
}
