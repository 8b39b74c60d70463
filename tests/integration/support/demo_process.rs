//! The demo provider (`examples/provider`) as a real process on loopback.
//!
//! The binary is `target/<profile>/examples/provider`, brought up to date
//! once per test run by [`example_binary`]. Each [`DemoProcess`] binds
//! `127.0.0.1:0` (the OS picks a free port), reads the address the demo
//! prints, and is killed when dropped.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::examples::example_binary;

/// The demo provider binary, built if needed.
pub fn demo_binary() -> PathBuf {
    example_binary("provider")
}

/// A running demo provider; killed (and reaped) on drop.
pub struct DemoProcess {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Everything it printed (its tracing log) so far, for diagnosis.
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
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim().parse::<SocketAddr>());
                    sent = true;
                }
                let mut log = sink.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
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

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process printed so far (its tracing log, on stdout, and
    /// anything on stderr), line by line.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// The log once it has a line containing `needle`, waiting at most
    /// `timeout` for it (the process writes a line before it answers the
    /// request that caused it; reading the pipe may lag).
    pub fn log_with(&self, needle: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) || std::time::Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
