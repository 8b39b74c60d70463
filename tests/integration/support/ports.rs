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
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};

/// A loopback port held bound, not listening: connecting to it is refused.
pub struct ClosedPort {
    /// Holds the port; closed (and the port released) on drop.
    _socket: OwnedFd,
    addr: SocketAddr,
}

impl ClosedPort {
    /// Holds a port the OS picks on `127.0.0.1`.
    pub fn reserve() -> Self {
        let socket = reuseport_socket().expect("a TCP socket");
        bind(&socket, 0).expect("bind 127.0.0.1:0");
        let port = local_port(&socket).expect("the port it was bound to");
        Self {
            _socket: socket,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
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
        bind(&socket, self.addr.port())?;
        // SAFETY: listen(2) on a socket this function owns; no pointers.
        check(unsafe { libc::listen(socket.as_raw_fd(), 128) })?;
        Ok(TcpListener::from(socket))
    }
}

/// A new IPv4 TCP socket with `SO_REUSEPORT`, closed on exec (a process a
/// test starts must not inherit the port).
fn reuseport_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; its result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let on: libc::c_int = 1;
    // SAFETY: the value points to a live `c_int` and the length is its size.
    check(unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&raw const on).cast(),
            socklen::<libc::c_int>(),
        )
    })?;
    Ok(socket)
}

/// `127.0.0.1:port`, as the socket calls take it.
fn loopback(port: u16) -> libc::sockaddr_in {
    // SAFETY: `sockaddr_in` is plain data, for which all zeros is a value.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::sa_family_t::try_from(libc::AF_INET).expect("AF_INET fits");
    addr.sin_port = port.to_be();
    addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
    addr
}

fn bind(socket: &OwnedFd, port: u16) -> io::Result<()> {
    let addr = loopback(port);
    // SAFETY: the address points to a live `sockaddr_in` and the length is
    // its size.
    check(unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const addr).cast(),
            socklen::<libc::sockaddr_in>(),
        )
    })
}

fn local_port(socket: &OwnedFd) -> io::Result<u16> {
    let mut addr = loopback(0);
    let mut len = socklen::<libc::sockaddr_in>();
    // SAFETY: the address and the length point to a live `sockaddr_in` and
    // its size, which getsockname(2) writes no further than.
    check(unsafe { libc::getsockname(socket.as_raw_fd(), (&raw mut addr).cast(), &mut len) })?;
    Ok(u16::from_be(addr.sin_port))
}

/// A socket call's `0` or `-1` (with `errno`) as a result.
fn check(status: libc::c_int) -> io::Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(size_of::<T>()).expect("a socket address fits socklen_t")
}
