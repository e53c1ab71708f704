//! TCP connect check: is the port open, and how long does the handshake take.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::CheckError;
use crate::error::within;

/// Most addresses tried for one name: a name resolving to dozens of addresses must not
/// multiply the work of a single check.
pub const MAX_RESOLVED_ADDRESSES: usize = 8;

/// A successful TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpOutcome {
    /// Time of the successful connect only, name resolution excluded.
    pub connect_time: Duration,
}

/// Connects to `address` (`host:port`, the host being a name or an IP address) and closes
/// the connection at once. The timeout covers name resolution and every attempt.
pub async fn tcp_connect(address: &str, timeout: Duration) -> Result<TcpOutcome, CheckError> {
    within(timeout, async {
        let (stream, connect_time) = connect(address).await?;
        drop(stream);
        Ok(TcpOutcome { connect_time })
    })
    .await
}

/// Resolves `address` and connects to its addresses in order, returning the first stream and
/// how long its own connect took. Used by every check that speaks over TCP.
pub(crate) async fn connect(address: &str) -> Result<(TcpStream, Duration), CheckError> {
    let addresses = resolve(address).await?;
    let mut last_error = CheckError::Unreachable(format!("aucune adresse pour « {address} »"));
    for socket_address in addresses {
        let started = Instant::now();
        match TcpStream::connect(socket_address).await {
            Ok(stream) => return Ok((stream, started.elapsed())),
            Err(error) => last_error = CheckError::from_connect(error),
        }
    }
    Err(last_error)
}

async fn resolve(address: &str) -> Result<Vec<SocketAddr>, CheckError> {
    let resolved = tokio::net::lookup_host(address)
        .await
        .map_err(|error| match error.kind() {
            // Not `host:port` at all: a configuration mistake, not an equipment fault.
            std::io::ErrorKind::InvalidInput => {
                CheckError::InvalidTarget(format!("adresse « {address} » invalide : {error}"))
            }
            _ => {
                CheckError::Unreachable(format!("résolution de « {address} » impossible : {error}"))
            }
        })?;
    Ok(resolved.take(MAX_RESOLVED_ADDRESSES).collect())
}
