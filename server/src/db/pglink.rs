//! A PostgreSQL connection driven by the thread that uses it.
//!
//! `tokio-postgres` splits a connection in two: the client, which queues requests, and
//! the connection future, which writes them to the socket and reads the answers. Run
//! the usual way, the future is a task on a runtime: every statement then crosses
//! threads four times (caller → socket task → PostgreSQL → socket task → caller), and
//! on a virtual machine each wake-up between threads costs more than a small statement.
//!
//! Here the caller drives both halves itself. The socket is an ordinary blocking one.
//! Writes go straight to it; reads serve what an earlier blocking read brought in, and
//! when neither the request nor the connection can go on, the caller blocks in one
//! `read` until PostgreSQL answers. A statement is then one write and one read on the
//! calling thread, with no runtime and no other thread. This needs nothing from the
//! caller's context, so it works on tokio's blocking pool, inside an async test and on
//! the command line alike.
//!
//! A connection is used by one thread at a time (the store hands each out to one caller),
//! and there is at most one request in flight: a call returns only with its whole answer.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::Host;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{Client, Config, NoTls};

/// How much one blocking read takes in at most.
const READ_CHUNK: usize = 64 * 1024;

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).read(buf),
            Stream::Unix(s) => (&*s).read(buf),
        }
    }

    fn write(&self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).write(buf),
            Stream::Unix(s) => (&*s).write(buf),
        }
    }

    fn shutdown(&self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        }
    }
}

/// What blocking reads brought in and the connection has not taken yet.
#[derive(Default)]
struct Inbox {
    bytes: Vec<u8>,
    taken: usize,
    /// The socket reached its end, or failed: told to the next read, once.
    end: Option<std::io::Result<()>>,
}

struct Shared {
    stream: Stream,
    inbox: Mutex<Inbox>,
}

/// The socket as the connection future sees it. Clones share the stream and the inbox.
#[derive(Clone)]
pub struct Socket(Arc<Shared>);

impl Socket {
    fn new(stream: Stream) -> Socket {
        Socket(Arc::new(Shared {
            stream,
            inbox: Mutex::new(Inbox::default()),
        }))
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        // The lock is only ever held for a copy; a poisoned one still holds whole bytes.
        self.0.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until PostgreSQL sends something (or the socket ends), and keeps it for
    /// the connection's next read.
    fn fill(&self) {
        let mut chunk = vec![0u8; READ_CHUNK];
        let got = self.0.stream.read(&mut chunk);
        let mut inbox = self.inbox();
        match got {
            Ok(0) => inbox.end = Some(Ok(())),
            Ok(n) => {
                if inbox.taken == inbox.bytes.len() {
                    inbox.bytes.clear();
                    inbox.taken = 0;
                }
                inbox.bytes.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => inbox.end = Some(Err(e)),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut inbox = self.inbox();
        let waiting = inbox.bytes.len() - inbox.taken;
        if waiting > 0 {
            let n = waiting.min(buf.remaining());
            let from = inbox.taken;
            buf.put_slice(&inbox.bytes[from..from + n]);
            inbox.taken += n;
            return Poll::Ready(Ok(()));
        }
        match inbox.end.take() {
            // An end of stream is a read of nothing; an error is told as it came.
            Some(end) => Poll::Ready(end),
            // Nothing yet: the driver blocks in `fill` once nothing else can go on.
            None => Poll::Pending,
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        loop {
            match self.0.stream.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.0.stream.shutdown())
    }
}

type Driver = tokio_postgres::Connection<Socket, NoTlsStream>;

/// A connected client and the half that talks to the socket.
pub struct Link {
    socket: Socket,
    driver: Option<Pin<Box<Driver>>>,
    /// Raised when the call and the connection wake each other: one has handed the
    /// other a request, an answer, or room for the next answer.
    woken: Arc<Woken>,
    /// Writes sent without waiting for their answers ([`Link::send`]).
    sent: Sent,
}

#[derive(Default)]
struct Woken(AtomicBool);

impl std::task::Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Waits for `fut` with nothing else to drive: the handshake, before the connection
/// future exists.
fn wait_alone<T>(socket: &Socket, fut: impl Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        socket.fill();
    }
}

impl Link {
    /// Connects to the first host of `url` that answers and signs in.
    pub fn connect(url: &str) -> super::Result<(Client, Link)> {
        let config: Config = url.parse()?;
        let stream = open(&config).map_err(super::Error::Unreachable)?;
        let socket = Socket::new(stream);
        let (client, driver) = wait_alone(&socket, config.connect_raw(socket.clone(), NoTls))?;
        Ok((
            client,
            Link {
                socket,
                driver: Some(Box::pin(driver)),
                woken: Arc::default(),
                sent: Sent::default(),
            },
        ))
    }

    /// Sends a write and keeps it until its answer comes. Polling it once here queues its
    /// request, so requests go out in the order they are made.
    pub fn send(&mut self, mut fut: Unanswered) {
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => Sent::record(&mut self.sent.failed, out),
            Poll::Pending => self.sent.waiting.push(fut),
        }
    }

    /// The first failure of a write sent without waiting, once.
    pub fn take_failed(&mut self) -> Option<tokio_postgres::Error> {
        self.sent.failed.take()
    }

    /// Drives the connection until `fut`, a call of the client, is answered, and with it
    /// every write sent before it without waiting.
    pub fn wait<T>(&mut self, fut: impl Future<Output = T>) -> T {
        let mut fut = std::pin::pin!(fut);
        let mut out = None;
        self.drive(|cx, sent| {
            sent.poll_all(cx);
            if out.is_none()
                && let Poll::Ready(o) = fut.as_mut().poll(cx)
            {
                out = Some(o);
            }
            // Writes sent before the call were answered before it: they are all done
            // once it is, and the loop goes on only for a part not yet handed over.
            match out.take() {
                Some(o) if sent.waiting.is_empty() => Poll::Ready(o),
                o => {
                    out = o;
                    Poll::Pending
                }
            }
        })
    }

    /// Polls `step` and the connection until `step` is ready, blocking on the socket
    /// only when neither can go on.
    fn drive<T>(&mut self, mut step: impl FnMut(&mut Context<'_>, &mut Sent) -> Poll<T>) -> T {
        let waker = Waker::from(self.woken.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            self.woken.0.store(false, Ordering::Release);
            if let Poll::Ready(out) = step(&mut cx, &mut self.sent) {
                return out;
            }
            let Some(driver) = self.driver.as_mut() else {
                // With its connection gone, every call fails as soon as it is polled.
                unreachable!("a PostgreSQL call waits on a connection that has ended");
            };
            // Sends what the calls queued and hands over whatever answer has come in.
            if let Poll::Ready(end) = driver.as_mut().poll(&mut cx) {
                if let Err(e) = end {
                    tracing::warn!(error = %e, "a PostgreSQL connection ended");
                }
                // Dropping the connection drops the calls' answer channels: each call
                // fails with "connection closed" when polled next.
                self.driver = None;
                if let Poll::Ready(out) = step(&mut cx, &mut self.sent) {
                    return out;
                }
                unreachable!("a PostgreSQL call outlived its connection");
            }
            if let Poll::Ready(out) = step(&mut cx, &mut self.sent) {
                return out;
            }
            // Either side may have made room for the other (an answer of many parts
            // passes one part at a time): poll again. Only when neither did does the
            // call wait for PostgreSQL.
            if !self.woken.0.load(Ordering::Acquire) {
                self.socket.fill();
            }
        }
    }
}

/// A write sent without waiting for its answer.
pub type Unanswered =
    Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'static>>;

/// Writes sent without waiting (inside a transaction), and the first of them that
/// failed. PostgreSQL answers requests in order, so they are all answered by the time
/// a later call is; a failure is told by that call.
#[derive(Default)]
struct Sent {
    waiting: Vec<Unanswered>,
    failed: Option<tokio_postgres::Error>,
}

impl Sent {
    /// Keeps the first failure.
    fn record(failed: &mut Option<tokio_postgres::Error>, out: Result<u64, tokio_postgres::Error>) {
        if let Err(e) = out {
            failed.get_or_insert(e);
        }
    }

    fn poll_all(&mut self, cx: &mut Context<'_>) {
        let failed = &mut self.failed;
        self.waiting.retain_mut(|f| match f.as_mut().poll(cx) {
            Poll::Ready(out) => {
                Sent::record(failed, out);
                false
            }
            Poll::Pending => true,
        });
    }
}

/// Opens a blocking socket to the first of the configuration's hosts that accepts one.
fn open(config: &Config) -> std::io::Result<Stream> {
    let hosts = config.get_hosts();
    let ports = config.get_ports();
    let port_of = |i: usize| match ports {
        [] => 5432,
        [one] => *one,
        many => many.get(i).copied().unwrap_or(5432),
    };
    let mut last = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no host to connect to");
    for (i, host) in hosts.iter().enumerate() {
        let port = port_of(i);
        let opened = match host {
            Host::Tcp(name) => tcp(config, name, port),
            Host::Unix(dir) => {
                UnixStream::connect(dir.join(format!(".s.PGSQL.{port}"))).map(Stream::Unix)
            }
        };
        match opened {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn tcp(config: &Config, name: &str, port: u16) -> std::io::Result<Stream> {
    use std::net::ToSocketAddrs;
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address");
    for addr in (name, port).to_socket_addrs()? {
        let opened = match config.get_connect_timeout() {
            Some(t) => TcpStream::connect_timeout(&addr, *t),
            None => TcpStream::connect(addr),
        };
        match opened {
            Ok(s) => {
                // Small statements go out at once, not after the last one's ack.
                s.set_nodelay(true)?;
                if config.get_keepalives() {
                    // A dead peer is noticed instead of waited on forever.
                    let idle = config.get_keepalives_idle().max(Duration::from_secs(1));
                    socket2::SockRef::from(&s)
                        .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(idle))?;
                }
                return Ok(Stream::Tcp(s));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}
