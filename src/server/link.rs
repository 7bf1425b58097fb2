//! The emulated link: every accepted connection pays the [`Network`]'s round trips,
//! jitter and bandwidth, whichever client is on the other end.
//!
//! The kernel cannot do it here (`tc qdisc ... netem` is missing and needs root), and
//! a proxy that delays bytes cannot delay the TCP handshake: the kernel completes it at
//! loopback speed before fanout sees the connection. So the link charges the handshake
//! where it can: the client's first bytes on a new connection are held until one and a
//! half round trips after the accept (the SYN/SYN-ACK round trip the client would have
//! waited before sending, then half a round trip for the bytes to travel). After that,
//! every chunk in each direction is held half a round trip from the moment it arrived
//! (timed from arrival, so a large body does not pile delays up chunk after chunk),
//! plus a seeded jitter that never reorders bytes (release times only move forward in
//! each direction), after waiting its turn on a link of the network's bandwidth
//! (`link_free_at = max(link_free_at, arrival) + bytes / bandwidth`). A fresh request
//! then costs 2 round trips plus its delay, a request on a reused connection one.
//!
//! **Why a relay, not a wrapper.** Each connection is relayed through a
//! [`tokio::io::duplex`] pipe: two pumps per connection read from one side as soon as
//! bytes arrive, stamp them, and write them to the other side when they are due. A
//! wrapper stream that delayed bytes inside `poll_read` would only see them when hyper
//! asks, which is late whenever hyper is busy writing, and its clock would drift with
//! hyper's polling; the relay's reader is always waiting on the socket, so arrival
//! times are the socket's. The server side of the pipe is an ordinary
//! `AsyncRead + AsyncWrite + Unpin + Send` stream, so TLS layers on it exactly as it
//! would on a socket, and its handshake pays the link's round trips by itself. The
//! same relay sits in front of wiremock, relaying to its socket.
//!
//! **Cost.** One copy per chunk (at most [`CHUNK_BYTES`]), two read buffers of that
//! size and a pipe of at most [`PIPE_BYTES`] per connection, no task of its own (the
//! relay runs inside the connection's task), one timer at a time per direction. An idle
//! or small-request connection holds about 40 KB, so a thousand of them about 40 MB;
//! one streaming a large body holds up to its window (1 MiB) more. Every wait is a
//! timer the connection's task owns, so when the server shuts down and drops the task,
//! delayed bytes are dropped with it.
//!
//! A loopback network is not relayed at all ([`Link::of`] gives `None`), so figures on
//! loopback are exactly what they were before the link existed.
//!
//! Read next: `http.rs`, whose accept loop attaches the link to each connection.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::latency::splitmix64;
use super::network::{Bandwidth, Network};

/// The most bytes one chunk carries: big bodies stream in chunks this size, each
/// released on its own, as segments of a window would.
pub(super) const CHUNK_BYTES: usize = 16 * 1024;
/// Chunks one direction may hold in flight: 1 MiB, the emulated TCP window. Past it
/// the reader waits, as a sender waits for its window to open; it bounds a
/// connection's memory, and caps one connection near 1 MiB per half round trip (160
/// Mbit/s at a 100 ms round trip), as a real window caps a long path.
const WINDOW_CHUNKS: usize = 64;
/// The pipe between the link and the server's side of a connection.
pub(super) const PIPE_BYTES: usize = 64 * 1024;
/// How late a tokio sleep ends, on average: the timer rounds a deadline up to its next
/// millisecond tick and then parks for whole milliseconds from the current tick, so a
/// sleep ends 0.2 to 1.9 ms late (1.1 ms on average, measured on this project's 2-core
/// machines). Aiming this much early centres each hop's error on zero.
const TIMER_LATENESS: Duration = Duration::from_millis(1);

/// A network applied to connections: its figures and the seed of its jitter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    network: Network,
    seed: u64,
}

/// Which way bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to server: held until the emulated handshake is over.
    Upstream,
    /// Server to client.
    Downstream,
}

/// Bytes on their way, and when they are due at the far end. Empty bytes carry the end
/// of the stream (a FIN), due like any other chunk.
struct Chunk {
    due: Instant,
    bytes: Bytes,
}

impl Link {
    /// The link for `network`, or `None` on loopback, where connections go unwrapped.
    pub(super) fn of(network: &Network, seed: u64) -> Option<Link> {
        (!network.is_loopback()).then_some(Link {
            network: *network,
            seed,
        })
    }

    /// Puts connection `id`, accepted at `accepted`, behind the link. Returns the
    /// server's side of it, and the relay the caller must drive (in the same task as
    /// the server's side, so that both end together). `first_byte` is called once,
    /// when the client's first bytes reach the server.
    pub(super) fn attach<C>(
        self,
        client: C,
        id: u64,
        accepted: Instant,
        first_byte: impl FnOnce() + Send + 'static,
    ) -> (DuplexStream, impl Future<Output = ()> + Send)
    where
        C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (server_side, link_side) = tokio::io::duplex(PIPE_BYTES);
        let relay = self.relay(client, link_side, id, accepted, first_byte);
        (server_side, relay)
    }

    /// Relays bytes between `client` and `server` through the link until the server's
    /// side closes (its last bytes delivered) or either side fails.
    pub(super) async fn relay<C, S>(
        self,
        client: C,
        server: S,
        id: u64,
        accepted: Instant,
        first_byte: impl FnOnce() + Send + 'static,
    ) where
        C: AsyncRead + AsyncWrite + Unpin + Send,
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let (client_read, client_write) = tokio::io::split(client);
        let (server_read, server_write) = tokio::io::split(server);
        let upstream = self.pump(
            client_read,
            server_write,
            self.schedule(Direction::Upstream, id, accepted),
            Some(first_byte),
        );
        let downstream = self.pump(
            server_read,
            client_write,
            self.schedule(Direction::Downstream, id, accepted),
            None::<fn()>,
        );
        tokio::pin!(upstream, downstream);
        // A client that half-closes still gets its answer, so a clean end upstream does
        // not end the relay; the server closing does, and so does any failure.
        tokio::select! {
            _ = &mut downstream => {}
            Err(_) = &mut upstream => {}
        }
    }

    /// The timetable of one direction of connection `id`.
    fn schedule(&self, direction: Direction, id: u64, accepted: Instant) -> Schedule {
        let not_before = match direction {
            // The client may send once its handshake is done: a round trip after the
            // accept, on the emulated network.
            Direction::Upstream => accepted + self.network.rtt,
            Direction::Downstream => accepted,
        };
        let lane = id.wrapping_mul(2) + u64::from(direction == Direction::Downstream);
        Schedule {
            one_way: self.network.rtt / 2,
            jitter: self.network.jitter,
            bandwidth: self.network.bandwidth,
            not_before,
            link_free_at: not_before,
            last_due: not_before,
            draws: splitmix64(self.seed ^ splitmix64(lane)),
        }
    }

    /// One direction: a reader that stamps chunks as they arrive and a writer that
    /// delivers each when due, joined by a bounded queue (the window). Ends when the
    /// end of the stream has been delivered, or with the first error.
    async fn pump<R, W>(
        self,
        mut from: R,
        mut to: W,
        mut schedule: Schedule,
        mut on_first: Option<impl FnOnce()>,
    ) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let (queue, mut due) = mpsc::channel::<Chunk>(WINDOW_CHUNKS);
        let reader = async move {
            let mut buffer = vec![0u8; CHUNK_BYTES];
            loop {
                let read = from.read(&mut buffer).await?;
                let chunk = Chunk {
                    due: schedule.due(Instant::now(), read),
                    bytes: Bytes::copy_from_slice(&buffer[..read]),
                };
                if queue.send(chunk).await.is_err() || read == 0 {
                    return Ok::<(), std::io::Error>(());
                }
            }
        };
        let writer = async move {
            while let Some(chunk) = due.recv().await {
                let aim = chunk.due.checked_sub(TIMER_LATENESS).unwrap_or(chunk.due);
                tokio::time::sleep_until(aim).await;
                if chunk.bytes.is_empty() {
                    // The far side may be gone already; the stream is over either way.
                    let _ = to.shutdown().await;
                    return Ok(());
                }
                to.write_all(&chunk.bytes).await?;
                if let Some(first) = on_first.take() {
                    first();
                }
            }
            Ok(())
        };
        tokio::try_join!(reader, writer).map(|_| ())
    }
}

/// When each chunk of one direction is due: the bandwidth's queue, half a round trip,
/// the jitter, and never before the chunk ahead of it.
struct Schedule {
    one_way: Duration,
    jitter: Duration,
    bandwidth: Bandwidth,
    /// Nothing leaves before this: the emulated handshake's end, upstream.
    not_before: Instant,
    /// When the link has finished putting the bytes queued so far on the wire.
    link_free_at: Instant,
    /// When the previous chunk is due: later chunks are never due before it.
    last_due: Instant,
    /// The jitter's seeded sequence (splitmix64 state).
    draws: u64,
}

impl Schedule {
    /// When `bytes` that arrived at `arrival` are due at the far end.
    fn due(&mut self, arrival: Instant, bytes: usize) -> Instant {
        let sent = arrival.max(self.not_before);
        self.link_free_at = self.link_free_at.max(sent) + self.bandwidth.transfer_time(bytes);
        let due = (self.link_free_at + self.one_way_delay()).max(self.last_due);
        self.last_due = due;
        due
    }

    /// Half a round trip, moved by a draw from the jitter's window centred on it.
    fn one_way_delay(&mut self) -> Duration {
        if self.jitter.is_zero() {
            return self.one_way;
        }
        self.draws = splitmix64(self.draws);
        let unit = (self.draws >> 11) as f64 / (1u64 << 53) as f64;
        let offset = self.jitter.as_secs_f64() * (unit - 0.5);
        Duration::from_secs_f64((self.one_way.as_secs_f64() + offset).max(0.0))
    }
}

/// A listener in front of a server fanout does not accept for (wiremock): accepts on
/// `listener`, connects each client to `target`, and relays through `link`. Runs until
/// its runtime is dropped.
pub(crate) async fn front(listener: TcpListener, target: SocketAddr, link: Link) {
    let mut id = 0u64;
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(error) => {
                eprintln!("fanout mock API: accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let accepted = Instant::now();
        let _ = client.set_nodelay(true);
        let connection = id;
        id += 1;
        tokio::spawn(async move {
            // Nothing listening behind the front means the server is stopping: the
            // client sees its connection close, as it would without the front.
            if let Ok(server) = TcpStream::connect(target).await {
                let _ = server.set_nodelay(true);
                link.relay(client, server, connection, accepted, || {})
                    .await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(network: Network, direction: Direction) -> (Schedule, Instant) {
        let accepted = Instant::now();
        let link = Link::of(&network, 7).expect("not loopback");
        (link.schedule(direction, 3, accepted), accepted)
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn the_first_bytes_wait_for_the_handshake_then_half_a_round_trip() {
        let network = Network {
            rtt: ms(40),
            ..Network::default()
        };
        let (mut up, accepted) = schedule(network, Direction::Upstream);
        assert_eq!(up.due(accepted, 100), accepted + ms(60));
        // Later bytes are timed from their own arrival.
        assert_eq!(up.due(accepted + ms(500), 100), accepted + ms(520));
        let (mut down, accepted) = schedule(network, Direction::Downstream);
        assert_eq!(down.due(accepted + ms(70), 100), accepted + ms(90));
    }

    #[test]
    fn bandwidth_queues_chunks_and_jitter_never_reorders_them() {
        let network = Network {
            rtt: ms(10),
            jitter: ms(8),
            bandwidth: Bandwidth::BitsPerSecond(8_000_000),
        };
        let (mut down, accepted) = schedule(network, Direction::Downstream);
        // 64 chunks of 16 KiB at once: 1 MiB at 1 MB/s is about a second on the wire.
        let dues: Vec<Instant> = (0..64).map(|_| down.due(accepted, CHUNK_BYTES)).collect();
        assert!(dues.windows(2).all(|pair| pair[0] <= pair[1]));
        let last = dues[63] - accepted;
        assert!(last > ms(1040) && last < ms(1060), "{last:?}");
    }

    #[test]
    fn jitter_is_seeded_per_connection_and_direction() {
        let network = Network {
            rtt: ms(60),
            jitter: ms(15),
            ..Network::default()
        };
        let dues = |direction| {
            let (mut s, at) = schedule(network, direction);
            (0..20)
                .map(|i| s.due(at + ms(1000 * i), 10) - at - ms(1000 * i))
                .collect::<Vec<_>>()
        };
        let up = dues(Direction::Downstream);
        assert_eq!(up, dues(Direction::Downstream));
        assert_ne!(up, dues(Direction::Upstream));
        assert!(up.iter().all(|d| *d >= ms(22) && *d <= ms(38)));
        assert!(up.iter().any(|d| *d != ms(30)));
    }
}
