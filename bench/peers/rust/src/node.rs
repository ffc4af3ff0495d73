//! The libp2p node: TCP + Noise + Yamux, a fresh Ed25519 identity, no connection limits.
//! `listen` runs the server side; `Client` drives a dialing swarm from any number of tasks.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::transport::TransportError;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, Stream, StreamProtocol, SwarmEvent};
use libp2p::{noise, tcp, yamux, Multiaddr, Swarm, SwarmBuilder};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

use crate::args::Remote;
use crate::streams::Behaviour;

/// Held connections must outlive any benchmark.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);
/// Thousands of connections may arrive at once; the kernel caps this at somaxconn.
const LISTEN_BACKLOG: u32 = 8192;
/// Covers TCP connect, Noise and Yamux negotiation; the swarm itself has no such deadline.
const DIAL_TIMEOUT: Duration = Duration::from_secs(30);
const OPEN_STREAM_TIMEOUT: Duration = Duration::from_secs(30);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

fn new_swarm() -> Result<Swarm<Behaviour>, String> {
    let swarm = SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default()
                .nodelay(true)
                .listen_backlog(LISTEN_BACKLOG),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|error| format!("transport setup: {error}"))?
        .with_behaviour(|_| Behaviour::default())
        .map_err(|error| format!("behaviour setup: {error}"))?
        .with_swarm_config(|config| config.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    Ok(swarm)
}

/// Resolves on SIGTERM, SIGINT or end of stdin. Created before anything is announced, so that
/// an early SIGTERM is a clean stop rather than the default kill.
pub struct StopRequest {
    terminate: Signal,
    interrupt: Signal,
    stdin_closed: oneshot::Receiver<()>,
}

impl StopRequest {
    pub fn install() -> Result<Self, String> {
        let install = |kind| signal(kind).map_err(|error| format!("signal handler: {error}"));
        let terminate = install(SignalKind::terminate())?;
        let interrupt = install(SignalKind::interrupt())?;
        let (closed, stdin_closed) = oneshot::channel();
        // A plain thread: a blocked stdin read must never hold up the async runtime.
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin();
            loop {
                match stdin.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = closed.send(());
        });
        Ok(StopRequest {
            terminate,
            interrupt,
            stdin_closed,
        })
    }

    pub async fn wait(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
            _ = &mut self.stdin_closed => {}
        }
    }
}

pub fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn is_unspecified(addr: &Multiaddr) -> bool {
    addr.iter().any(|part| match part {
        Protocol::Ip4(ip) => ip.is_unspecified(),
        Protocol::Ip6(ip) => ip.is_unspecified(),
        _ => false,
    })
}

fn is_loopback(addr: &Multiaddr) -> bool {
    addr.iter().any(|part| match part {
        Protocol::Ip4(ip) => IpAddr::V4(ip).is_loopback(),
        Protocol::Ip6(ip) => IpAddr::V6(ip).is_loopback(),
        _ => false,
    })
}

fn describe_transport_error(error: &TransportError<std::io::Error>) -> String {
    match error {
        TransportError::MultiaddrNotSupported(addr) => format!("unsupported address {addr}"),
        TransportError::Other(error) => error.to_string(),
    }
}

fn describe_dial_error(error: &DialError) -> String {
    match error {
        DialError::Transport(attempts) => attempts
            .iter()
            .map(|(addr, error)| format!("{addr}: {}", describe_transport_error(error)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// rust-libp2p listens with SO_REUSEPORT, so a port another process holds would be shared
/// silently; a plain bind first turns that into an "address in use" error.
fn check_port_free(addr: &Multiaddr) -> Result<(), String> {
    let mut ip = None;
    let mut port = None;
    for part in addr.iter() {
        match part {
            Protocol::Ip4(v4) => ip = Some(IpAddr::V4(v4)),
            Protocol::Ip6(v6) => ip = Some(IpAddr::V6(v6)),
            Protocol::Tcp(number) => port = Some(number),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port))
            .map(drop)
            .map_err(|error| format!("listen on {addr}: {error}")),
        _ => Ok(()),
    }
}

/// Serves perf, ping and echo on `addr` until a stop is requested.
pub async fn listen(addr: Multiaddr) -> Result<(), String> {
    let mut stop = StopRequest::install()?;
    check_port_free(&addr)?;
    let mut swarm = new_swarm()?;
    let peer_id = *swarm.local_peer_id();
    swarm
        .listen_on(addr.clone())
        .map_err(|error| format!("listen on {addr}: {}", describe_transport_error(&error)))?;
    // A wildcard address is reported once per interface: announce the loopback one. Stop
    // requests wait until the announcement, so that a listener always prints its line.
    let wildcard = is_unspecified(&addr);
    let mut announced = false;
    loop {
        tokio::select! {
            _ = stop.wait(), if announced => return Ok(()),
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. }
                    if !announced && (!wildcard || is_loopback(&address)) =>
                {
                    print_line(&format!("LISTEN {}", address.with(Protocol::P2p(peer_id))));
                    announced = true;
                }
                SwarmEvent::ListenerClosed { reason: Err(error), .. } => {
                    return Err(format!("listener closed: {error}"));
                }
                SwarmEvent::ListenerError { error, .. } => eprintln!("peer: listener: {error}"),
                _ => {}
            },
        }
    }
}

enum Command {
    Dial(oneshot::Sender<Result<ConnectionId, String>>),
    Open(
        ConnectionId,
        StreamProtocol,
        oneshot::Sender<Result<Stream, String>>,
    ),
    Close(ConnectionId, oneshot::Sender<()>),
}

/// A handle on a dialing swarm; cheap to clone, usable from many tasks at once.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
}

impl Client {
    pub fn start(remote: Remote) -> Result<Client, String> {
        let swarm = new_swarm()?;
        let (commands, receiver) = mpsc::unbounded_channel();
        tokio::spawn(drive(swarm, receiver, remote));
        Ok(Client { commands })
    }

    fn send(&self, command: Command) -> Result<(), String> {
        self.commands
            .send(command)
            .map_err(|_| "the swarm task has stopped".to_string())
    }

    /// Dials a new TCP connection (never reusing one) and waits until it is secured and muxed.
    pub async fn dial(&self) -> Result<ConnectionId, String> {
        let (reply, result) = oneshot::channel();
        self.send(Command::Dial(reply))?;
        match tokio::time::timeout(DIAL_TIMEOUT, result).await {
            Ok(Ok(outcome)) => outcome.map_err(|error| format!("dial: {error}")),
            Ok(Err(_)) => Err("dial: the swarm task has stopped".into()),
            Err(_) => Err(format!(
                "dial: not connected after {} s",
                DIAL_TIMEOUT.as_secs()
            )),
        }
    }

    pub async fn open(
        &self,
        connection: ConnectionId,
        protocol: StreamProtocol,
    ) -> Result<Stream, String> {
        let (reply, result) = oneshot::channel();
        self.send(Command::Open(connection, protocol.clone(), reply))?;
        match tokio::time::timeout(OPEN_STREAM_TIMEOUT, result).await {
            Ok(Ok(outcome)) => outcome.map_err(|error| format!("open {protocol}: {error}")),
            Ok(Err(_)) => Err(format!("open {protocol}: the connection is closed")),
            Err(_) => Err(format!(
                "open {protocol}: not negotiated after {} s",
                OPEN_STREAM_TIMEOUT.as_secs()
            )),
        }
    }

    /// Closes a connection and waits until it is gone.
    pub async fn close(&self, connection: ConnectionId) -> Result<(), String> {
        let (reply, result) = oneshot::channel();
        self.send(Command::Close(connection, reply))?;
        match tokio::time::timeout(CLOSE_TIMEOUT, result).await {
            Ok(_) => Ok(()),
            Err(_) => Err(format!(
                "close: still open after {} s",
                CLOSE_TIMEOUT.as_secs()
            )),
        }
    }
}

/// Owns the swarm: runs its commands and routes its events to the waiting callers.
async fn drive(
    mut swarm: Swarm<Behaviour>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    remote: Remote,
) {
    let mut dials: HashMap<ConnectionId, oneshot::Sender<Result<ConnectionId, String>>> =
        HashMap::new();
    let mut closes: HashMap<ConnectionId, Vec<oneshot::Sender<()>>> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(Command::Dial(reply)) => {
                    let options = DialOpts::peer_id(remote.peer_id)
                        .addresses(vec![remote.addr.clone()])
                        .condition(PeerCondition::Always)
                        .allocate_new_port()
                        .build();
                    let connection = options.connection_id();
                    match swarm.dial(options) {
                        Ok(()) => {
                            dials.insert(connection, reply);
                        }
                        Err(error) => {
                            let _ = reply.send(Err(describe_dial_error(&error)));
                        }
                    }
                }
                Some(Command::Open(connection, protocol, reply)) => {
                    swarm.behaviour_mut().open_stream(remote.peer_id, connection, protocol, reply);
                }
                Some(Command::Close(connection, reply)) => {
                    if swarm.close_connection(connection) {
                        closes.entry(connection).or_default().push(reply);
                    } else {
                        let _ = reply.send(());
                    }
                }
            },
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { connection_id, .. } => {
                    if let Some(reply) = dials.remove(&connection_id) {
                        let _ = reply.send(Ok(connection_id));
                    }
                }
                SwarmEvent::OutgoingConnectionError { connection_id, error, .. } => {
                    if let Some(reply) = dials.remove(&connection_id) {
                        let _ = reply.send(Err(describe_dial_error(&error)));
                    }
                }
                SwarmEvent::ConnectionClosed { connection_id, .. } => {
                    for reply in closes.remove(&connection_id).unwrap_or_default() {
                        let _ = reply.send(());
                    }
                }
                _ => {}
            },
        }
    }
}
