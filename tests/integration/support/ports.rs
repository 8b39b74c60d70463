//! Loopback ports a test holds: one that nothing listens on, or one it
//! listens on for a while and then closes, that no other socket can take in
//! the meantime.
//!
//! A port found by binding `127.0.0.1:0`, reading the port and dropping the
//! listener is free only at that instant: the next bind to port 0 anywhere
//! on the machine (another test's listener or proxy, a process a test
//! starts) may be given it, and a connection meant to be refused reaches
//! that instead. A [`ClosedPort`] keeps its port bound without listening:
//! connections to it are refused, and the OS gives the port to no other
//! socket until the `ClosedPort` is dropped.
//!
//! A process the tests start binds port 0 itself and reports the port it
//! got (the demo prints `listening on ADDR`, chromedriver `started
//! successfully on port N`); nothing here is for handing a port to one.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// A loopback port held bound, not listening: connecting to it is refused.
pub struct ClosedPort {
    /// Holds the port; closed (and the port released) on drop.
    _socket: Socket,
    addr: SocketAddr,
}

impl ClosedPort {
    /// Holds a port the OS picks on `127.0.0.1`.
    pub fn reserve() -> Self {
        let socket = reuseport_socket().expect("a TCP socket");
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        socket.bind(&any.into()).expect("bind 127.0.0.1:0");
        let addr = (socket.local_addr().ok())
            .and_then(|a| a.as_socket())
            .expect("the address it was bound to");
        Self {
            _socket: socket,
            addr,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A listener on this port, sharing it with the reservation
    /// (`SO_REUSEPORT`, which both set): while it lives, connections reach
    /// it; once it is dropped they are refused again, and the port is still
    /// held.
    pub fn listen(&self) -> io::Result<TcpListener> {
        let socket = reuseport_socket()?;
        socket.bind(&self.addr.into())?;
        socket.listen(128)?;
        Ok(socket.into())
    }
}

/// A new IPv4 TCP socket with `SO_REUSEPORT` (socket2 opens it close-on-exec:
/// a process a test starts does not inherit the port).
fn reuseport_socket() -> io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_port(true)?;
    Ok(socket)
}
