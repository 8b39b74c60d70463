//! The demo provider (`examples/provider`) as a real process on loopback, and
//! a small blocking HTTP/1.1 client to talk to it.
//!
//! The binary is `target/<profile>/examples/provider`, brought up to date
//! once per test run by [`crate::support::example_binary`]. Each [`DemoProcess`] binds `127.0.0.1:0` (the OS picks a free port), reads
//! the address the demo prints, and is killed when dropped.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The demo provider binary, built if needed.
pub fn demo_binary() -> PathBuf {
    crate::support::example_binary("provider")
}

/// A running demo provider; killed (and reaped) on drop.
pub struct DemoProcess {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Everything it printed on stderr (its tracing log) so far, for diagnosis.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl DemoProcess {
    /// Starts the demo with `args` (plus `--bind 127.0.0.1:0` unless `args`
    /// has a `--bind`) and waits until it listens.
    pub fn spawn(args: &[&str]) -> Self {
        Self::start(Command::new(demo_binary()), args)
    }

    /// [`spawn`](Self::spawn) in working directory `dir` (where the default
    /// store, `data/provider.sqlite3`, goes).
    pub fn spawn_in(dir: &std::path::Path, args: &[&str]) -> Self {
        let mut command = Command::new(demo_binary());
        command.current_dir(dir);
        Self::start(command, args)
    }

    fn start(mut command: Command, args: &[&str]) -> Self {
        if !args.iter().any(|a| a.starts_with("--bind")) {
            command.args(["--bind", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the demo provider");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(addr) = line.split("listening on ").nth(1) {
                        let _ = tx.send(addr.trim().parse::<SocketAddr>());
                        sent = true;
                    }
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(addr)) => addr,
            outcome => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "the demo provider did not start ({outcome:?}, exit {status:?}); \
                     its log:\n{}",
                    log.lock().expect("log lock")
                );
            }
        };
        Self { child, addr, log }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the process logged on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Stops the process and waits for it.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP response: status, headers (names lower-cased), body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
}

/// Sends one request (`Connection: close`) to `addr` and reads the whole
/// response. `host` is the Host header; `headers` are extra headers.
pub fn http(
    addr: SocketAddr,
    method: &str,
    host: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = request_head(method, host, target, headers, body, true);
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// The request line and headers, with `Connection: close` when `close`.
fn request_head(
    method: &str,
    host: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    if close {
        head.push_str("Connection: close\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head
}

/// A persistent (keep-alive) HTTP/1.1 connection, one request at a time:
/// for sending many requests without a new TCP connection each. Reconnects
/// when the server closed it.
pub struct Connection {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// A connection to `addr`, opened on first use.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, stream: None }
    }

    /// Sends one request and reads its response (which must have a
    /// `Content-Length` or a chunked body).
    pub fn send(
        &mut self,
        method: &str,
        host: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let mut stream = match self.stream.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(self.addr)?;
                stream.set_read_timeout(Some(Duration::from_secs(30)))?;
                stream.set_nodelay(true)?;
                BufReader::new(stream)
            }
        };
        let mut request = request_head(method, host, target, headers, body, false).into_bytes();
        request.extend_from_slice(body);
        stream.get_mut().write_all(&request)?;
        let raw = read_one_response(&mut stream)?;
        let response = parse_response(&raw)?;
        if !response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            self.stream = Some(stream);
        }
        Ok(response)
    }
}

/// The bytes of one response on a kept-alive connection: the head, then a
/// `Content-Length` body or a chunked one up to its last chunk.
fn read_one_response(stream: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut raw = Vec::new();
    let mut content_length = None;
    let mut chunked = false;
    loop {
        let start = raw.len();
        if stream.read_until(b'\n', &mut raw)? == 0 {
            return Err(invalid("connection closed before the end of the headers"));
        }
        let line = String::from_utf8_lossy(&raw[start..]).to_ascii_lowercase();
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.strip_prefix("content-length:") {
            content_length = value.trim().parse::<usize>().ok();
        }
        if line.starts_with("transfer-encoding:") && line.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        // Size lines and data up to the zero-size chunk and its blank line.
        loop {
            let start = raw.len();
            stream.read_until(b'\n', &mut raw)?;
            let size_text = String::from_utf8_lossy(&raw[start..]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid("bad chunk size"))?;
            let mut data = vec![0; size + 2];
            stream.read_exact(&mut data)?;
            raw.extend_from_slice(&data);
            if size == 0 {
                return Ok(raw);
            }
        }
    }
    let mut body = vec![0; content_length.unwrap_or(0)];
    stream.read_exact(&mut body)?;
    raw.extend_from_slice(&body);
    Ok(raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| invalid("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body).ok_or_else(|| invalid("bad chunked body"))?;
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[test]
fn demo_process_starts_and_answers_its_home_page() {
    let demo = DemoProcess::spawn(&["--store", "memory"]);
    let host = demo.addr.to_string();
    let home = http(demo.addr, "GET", &host, "/", &[], b"").expect("GET /");
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(home.text().contains("/_ah/OAuthGetRequestToken"));
    assert!(
        home.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(demo.base_url().starts_with("http://127.0.0.1:"));
    // A Host that is none of the public origins is refused.
    let foreign =
        http(demo.addr, "GET", "evil.example", "/api/whoami", &[], b"").expect("GET whoami");
    assert_ne!(foreign.status, 200);
    let log = demo.log();
    demo.stop();
    assert!(!log.contains("panicked"), "{log}");
}
