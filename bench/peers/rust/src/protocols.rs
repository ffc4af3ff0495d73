//! The three benchmark protocols, server and client side, over raw libp2p streams.
//!
//! - `/ipfs/ping/1.0.0`: the server echoes 32-byte payloads until the client closes.
//! - `/perf/1.0.0` (libp2p/specs perf/perf.md): the client sends the download size as an 8-byte
//!   big-endian u64, uploads, closes its write side; the server reads everything, then sends
//!   the requested bytes and closes.
//! - `/echo/1.0.0`: the server copies everything back and closes its write side when the
//!   client has closed its own.

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use libp2p::swarm::{Stream, StreamProtocol};

pub const PING: StreamProtocol = StreamProtocol::new("/ipfs/ping/1.0.0");
pub const PERF: StreamProtocol = StreamProtocol::new("/perf/1.0.0");
pub const ECHO: StreamProtocol = StreamProtocol::new("/echo/1.0.0");

pub const PING_SIZE: usize = 32;
/// Large writes and reads, so that the stack rather than the syscall count is measured.
const PERF_CHUNK: usize = 1 << 20;
const ECHO_CHUNK: usize = 64 << 10;
/// A remote that sends or accepts nothing for this long has failed.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

pub fn served() -> Vec<StreamProtocol> {
    vec![PERF, PING, ECHO]
}

/// Serves one inbound stream. Errors end the stream only: a misbehaving remote costs the
/// listener nothing else.
pub async fn serve(protocol: StreamProtocol, mut stream: Stream) {
    let _ = if protocol == PING {
        serve_ping(&mut stream).await
    } else if protocol == PERF {
        serve_perf(&mut stream).await
    } else if protocol == ECHO {
        serve_echo(&mut stream).await
    } else {
        Ok(())
    };
}

async fn serve_ping(stream: &mut Stream) -> io::Result<()> {
    let mut payload = [0u8; PING_SIZE];
    loop {
        match read_full(stream, &mut payload).await? {
            0 => return stream.close().await,
            PING_SIZE => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "partial ping payload",
                ))
            }
        }
        stream.write_all(&payload).await?;
        stream.flush().await?;
    }
}

async fn serve_perf(stream: &mut Stream) -> io::Result<()> {
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).await?;
    let mut remaining = u64::from_be_bytes(header);
    let mut buffer = vec![0u8; PERF_CHUNK];
    while stream.read(&mut buffer).await? != 0 {}
    while remaining > 0 {
        let len = remaining.min(PERF_CHUNK as u64) as usize;
        stream.write_all(&buffer[..len]).await?;
        remaining -= len as u64;
    }
    stream.close().await
}

async fn serve_echo(stream: &mut Stream) -> io::Result<()> {
    let mut buffer = vec![0u8; ECHO_CHUNK];
    loop {
        let len = stream.read(&mut buffer).await?;
        if len == 0 {
            return stream.close().await;
        }
        stream.write_all(&buffer[..len]).await?;
        stream.flush().await?;
    }
}

/// Reads until `buffer` is full or the stream ends; returns the bytes read.
async fn read_full<S: AsyncRead + Unpin>(stream: &mut S, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let len = stream.read(&mut buffer[filled..]).await?;
        if len == 0 {
            break;
        }
        filled += len;
    }
    Ok(filled)
}

/// Runs one I/O step, failing it after IO_TIMEOUT.
pub async fn timed<T>(
    what: &str,
    step: impl std::future::Future<Output = io::Result<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(IO_TIMEOUT, step).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("{what}: {error}")),
        Err(_) => Err(format!(
            "{what}: no progress for {} s",
            IO_TIMEOUT.as_secs()
        )),
    }
}

/// A fresh random ping payload.
pub fn ping_payload() -> Result<[u8; PING_SIZE], String> {
    let mut payload = [0u8; PING_SIZE];
    getrandom::fill(&mut payload).map_err(|error| format!("random payload: {error}"))?;
    Ok(payload)
}

/// One ping round trip on an open ping stream: `payload` out, the same 32 bytes back.
pub async fn ping_once(stream: &mut Stream, payload: &[u8; PING_SIZE]) -> Result<(), String> {
    let mut reply = [0u8; PING_SIZE];
    timed("ping", async {
        stream.write_all(payload).await?;
        stream.flush().await?;
        stream.read_exact(&mut reply).await
    })
    .await?;
    if &reply != payload {
        return Err("ping: the reply differs from the payload".into());
    }
    Ok(())
}

/// The perf client after the stream is open: returns the number of bytes downloaded.
pub async fn perf_client(stream: &mut Stream, upload: u64, download: u64) -> Result<u64, String> {
    timed(
        "perf: send the download size",
        stream.write_all(&download.to_be_bytes()),
    )
    .await?;
    let mut buffer = vec![0u8; PERF_CHUNK];
    let mut remaining = upload;
    while remaining > 0 {
        let len = remaining.min(PERF_CHUNK as u64) as usize;
        timed("perf: upload", stream.write_all(&buffer[..len])).await?;
        remaining -= len as u64;
    }
    timed("perf: close the write side", stream.close()).await?;
    let mut received = 0u64;
    loop {
        match timed("perf: download", stream.read(&mut buffer)).await? {
            0 => break,
            len => received += len as u64,
        }
    }
    if received != download {
        return Err(format!(
            "perf: asked for {download} bytes, received {received}"
        ));
    }
    Ok(received)
}

/// One echo exchange on an open echo stream: writes `payload` and closes the write side while
/// reading the echo concurrently (so that no payload size can deadlock on flow-control
/// windows), then checks that exactly `payload` came back.
pub async fn echo_exchange(stream: Stream, payload: &[u8]) -> Result<(), String> {
    let (mut reader, mut writer) = stream.split();
    let write = async {
        writer.write_all(payload).await?;
        writer.close().await
    };
    let read = async {
        let mut echoed = Vec::with_capacity(payload.len());
        reader.read_to_end(&mut echoed).await?;
        Ok(echoed)
    };
    let exchange = async {
        let (written, echoed) = futures::join!(write, read);
        written?;
        echoed
    };
    let echoed = timed("echo", exchange).await?;
    if echoed != payload {
        return Err(format!(
            "echo: sent {} bytes, received {} bytes{}",
            payload.len(),
            echoed.len(),
            if echoed.len() == payload.len() {
                " that differ"
            } else {
                ""
            }
        ));
    }
    Ok(())
}
