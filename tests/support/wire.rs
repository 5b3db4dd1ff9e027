//! A relay between the tests and PostgreSQL, on 127.0.0.1, that counts the exchanges on its connections:
//! a client's bytes that follow the server's (or open the connection) begin one round trip. It counts
//! what a host's own counter cannot see — sqlx's exchanges of its own — however TCP cuts the bytes. A
//! statement's preparation on a connection (an exchange that begins with a `Parse` message) is not
//! counted: which connection a call gets, and which statements that connection has prepared before, is
//! the pool's business, not the call's. So the relay's URL turns TLS off, to read the messages' types.
//! It stops accepting when dropped; a relayed connection ends with either side.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Counts {
    exchanges: AtomicU64,
    connections: AtomicU64,
    /// How long the server's bytes are held before they are passed on, in µs.
    reply_delay_micros: AtomicU64,
}

/// The relay, and what it counted.
pub struct WireCounter {
    url: String,
    counts: Arc<Counts>,
    accepting: JoinHandle<()>,
}

impl WireCounter {
    /// A relay to the server of `url` (a `postgres://` URL with its host and port).
    pub async fn start(url: &str) -> WireCounter {
        let options = sqlx::postgres::PgConnectOptions::from_str(url).expect("a PostgreSQL URL");
        let (host, port) = (options.get_host().to_string(), options.get_port());
        let server = format!("{host}:{port}");
        assert!(url.contains(&server), "the relay needs the URL's host and port spelt out: {url}");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port on 127.0.0.1");
        let relay: SocketAddr = listener.local_addr().expect("the relay's address");
        let counts = Arc::new(Counts::default());
        assert!(!url.contains("sslmode"), "the relay reads the messages, and sets sslmode=disable itself: {url}");
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}sslmode=disable", url.replacen(&server, &relay.to_string(), 1));
        let accepting = tokio::spawn({
            let counts = counts.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(upstream) = TcpStream::connect(&server).await else { continue };
                    counts.connections.fetch_add(1, Ordering::SeqCst);
                    let _ = (client.set_nodelay(true), upstream.set_nodelay(true));
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = upstream.into_split();
                    // Whether the client spoke last on this connection.
                    let client_last = Arc::new(AtomicBool::new(false));
                    tokio::spawn(pump(client_read, server_write, client_last.clone(), Ok(counts.clone())));
                    tokio::spawn(pump(server_read, client_write, client_last, Err(counts.clone())));
                }
            }
        });
        WireCounter { url, counts, accepting }
    }

    /// The URL that connects through the relay.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Exchanges the clients began so far, on every connection (preparations aside).
    pub fn exchanges(&self) -> u64 {
        self.counts.exchanges.load(Ordering::SeqCst)
    }

    /// Holds each of the server's answers for `delay` before passing it on (zero: at once), so that a
    /// test can give up on a call while the call waits for its answer.
    pub fn delay_replies(&self, delay: Duration) {
        self.counts.reply_delay_micros.store(delay.as_micros() as u64, Ordering::SeqCst);
    }

    /// Connections relayed so far.
    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::SeqCst)
    }

    /// The exchanges once none has begun for `quiet` (waiting at most 50 times `quiet`).
    pub async fn settled(&self, quiet: Duration) -> u64 {
        let mut seen = self.exchanges();
        for _ in 0..50 {
            tokio::time::sleep(quiet).await;
            let now = self.exchanges();
            if now == seen {
                return now;
            }
            seen = now;
        }
        panic!("the wire did not settle: exchanges kept beginning for {:?}", quiet * 50)
    }
}

impl Drop for WireCounter {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Copies one direction of a connection: the client's (`Ok`) or the server's (`Err`). The client's side
/// counts an exchange when the client speaks after the server, unless it begins with a `Parse`; the
/// server's side holds what it read for the reply delay, and notes that the server spoke before the
/// client can answer.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    client_last: Arc<AtomicBool>,
    side: Result<Arc<Counts>, Arc<Counts>>,
) {
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match &side {
            Ok(counts) => {
                let preparation = buffer[0] == b'P';
                if !client_last.swap(true, Ordering::SeqCst) && !preparation {
                    counts.exchanges.fetch_add(1, Ordering::SeqCst);
                }
            }
            Err(counts) => {
                let delay = counts.reply_delay_micros.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_micros(delay)).await;
                }
                client_last.store(false, Ordering::SeqCst);
            }
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
