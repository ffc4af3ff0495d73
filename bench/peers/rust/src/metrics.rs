//! The client metrics of `peer run`. Each returns the one JSON line to print (hold prints its
//! own line before it waits). Times come from `Instant` (monotonic), in nanoseconds.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use libp2p::swarm::ConnectionId;
use tokio::task::JoinSet;

use crate::args::{Metric, Remote};
use crate::node::{print_line, Client, StopRequest};
use crate::protocols::{self, ECHO, PERF, PING};

const PING_WARMUP: u64 = 10;
/// Dials in flight while opening held connections: enough to saturate the handshake path
/// without overflowing the remote's accept backlog.
const HOLD_DIALS_IN_FLIGHT: usize = 64;
/// Echo streams open at once in churn unless --concurrency says otherwise: rust-libp2p waits
/// for the remote to confirm each stream's protocol before sending, so a few streams in flight
/// keep the connection busy (about twice the sequential rate on loopback).
const CHURN_DEFAULT_CONCURRENCY: u64 = 4;

pub async fn run(remote: Remote, metric: Metric) -> Result<Option<String>, String> {
    let client = Client::start(remote)?;
    let line = match metric {
        Metric::Perf { upload, download } => perf(&client, upload, download).await?,
        Metric::Setup { count } => setup(&client, count).await?,
        Metric::HandshakeRate {
            concurrency,
            duration,
        } => handshake_rate(&client, concurrency, duration).await?,
        Metric::Ping { count } => ping(&client, count).await?,
        Metric::Hold { connections } => {
            hold(&client, connections).await?;
            return Ok(None);
        }
        Metric::Churn {
            duration,
            size,
            concurrency,
        } => {
            churn(
                &client,
                duration,
                size,
                concurrency.unwrap_or(CHURN_DEFAULT_CONCURRENCY),
            )
            .await?
        }
    };
    Ok(Some(line))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn json_array(values: &[u64]) -> String {
    let items: Vec<String> = values.iter().map(u64::to_string).collect();
    format!("[{}]", items.join(","))
}

async fn perf(client: &Client, upload: u64, download: u64) -> Result<String, String> {
    let connection = client.dial().await?;
    let start = Instant::now();
    let mut stream = client.open(connection, PERF).await?;
    protocols::perf_client(&mut stream, upload, download).await?;
    let elapsed = start.elapsed();
    drop(stream);
    client.close(connection).await?;
    Ok(format!(
        "{{\"upload_bytes\":{upload},\"download_bytes\":{download},\"ns\":{}}}",
        nanos(elapsed)
    ))
}

/// New connection, ping stream, one round trip; returns dial start → reply, closes after.
async fn connect_and_ping(client: &Client) -> Result<Duration, String> {
    let payload = protocols::ping_payload()?;
    let start = Instant::now();
    let connection = client.dial().await?;
    let result = first_ping(client, connection, &payload).await;
    let elapsed = start.elapsed();
    let closed = client.close(connection).await;
    result?;
    closed?;
    Ok(elapsed)
}

async fn first_ping(
    client: &Client,
    connection: ConnectionId,
    payload: &[u8; 32],
) -> Result<(), String> {
    let mut stream = client.open(connection, PING).await?;
    protocols::ping_once(&mut stream, payload).await
}

async fn setup(client: &Client, count: u64) -> Result<String, String> {
    let mut times = Vec::with_capacity(count as usize);
    for _ in 0..count {
        times.push(nanos(connect_and_ping(client).await?));
    }
    Ok(format!("{{\"setup_ns\":{}}}", json_array(&times)))
}

async fn handshake_rate(
    client: &Client,
    concurrency: u64,
    duration: Duration,
) -> Result<String, String> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut loops = JoinSet::new();
    for _ in 0..concurrency {
        let client = client.clone();
        loops.spawn(async move {
            let mut connections = 0u64;
            while Instant::now() < deadline {
                connect_and_ping(&client).await?;
                connections += 1;
            }
            Ok::<u64, String>(connections)
        });
    }
    let mut total = 0u64;
    while let Some(joined) = loops.join_next().await {
        total += joined.map_err(|error| format!("handshake loop: {error}"))??;
    }
    let elapsed = start.elapsed();
    Ok(format!(
        "{{\"connections\":{total},\"ns\":{}}}",
        nanos(elapsed)
    ))
}

async fn ping(client: &Client, count: u64) -> Result<String, String> {
    let connection = client.dial().await?;
    let mut stream = client.open(connection, PING).await?;
    let mut rtts = Vec::with_capacity(count as usize);
    for round in 0..PING_WARMUP + count {
        let payload = protocols::ping_payload()?;
        let start = Instant::now();
        protocols::ping_once(&mut stream, &payload).await?;
        let elapsed = start.elapsed();
        if round >= PING_WARMUP {
            rtts.push(nanos(elapsed));
        }
    }
    drop(stream);
    client.close(connection).await?;
    Ok(format!("{{\"rtt_ns\":{}}}", json_array(&rtts)))
}

async fn hold(client: &Client, connections: u64) -> Result<(), String> {
    let mut stop = StopRequest::install()?;
    let opened: Vec<ConnectionId> = futures::stream::iter(0..connections)
        .map(|_| client.dial())
        .buffer_unordered(HOLD_DIALS_IN_FLIGHT)
        .try_collect()
        .await?;
    print_line(&format!("{{\"opened\":{}}}", opened.len()));
    stop.wait().await;
    Ok(())
}

async fn churn(
    client: &Client,
    duration: Duration,
    size: u64,
    concurrency: u64,
) -> Result<String, String> {
    let size = usize::try_from(size).map_err(|_| format!("--size {size} is too large"))?;
    let payload: std::sync::Arc<[u8]> = (0..size).map(|i| (i % 251) as u8).collect();
    let connection = client.dial().await?;
    let start = Instant::now();
    let deadline = start + duration;
    let mut loops = JoinSet::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let payload = payload.clone();
        loops.spawn(async move {
            let mut streams = 0u64;
            while Instant::now() < deadline {
                let stream = client.open(connection, ECHO).await?;
                protocols::echo_exchange(stream, &payload).await?;
                streams += 1;
            }
            Ok::<u64, String>(streams)
        });
    }
    let mut total = 0u64;
    while let Some(joined) = loops.join_next().await {
        total += joined.map_err(|error| format!("churn loop: {error}"))??;
    }
    let elapsed = start.elapsed();
    client.close(connection).await?;
    Ok(format!(
        "{{\"streams\":{total},\"ns\":{},\"concurrency\":{concurrency}}}",
        nanos(elapsed)
    ))
}
