//! The command line of the benchmark peer contract:
//!
//!   peer listen [--addr MULTIADDR]
//!   peer run --remote MULTIADDR/p2p/ID --metric NAME [metric options]
//!
//! Options are `--name value` or `--name=value`. Sizes and counts accept a K, M or G suffix
//! (binary multiples); `--seconds` accepts a fraction.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

pub const USAGE: &str = "usage:
  peer listen [--addr /ip4/127.0.0.1/tcp/0]
  peer run --remote <multiaddr>/p2p/<peer id> --metric <name> [options]
metrics and their options:
  perf           --upload <bytes> --download <bytes>
  setup          --count <n>
  handshake-rate --concurrency <c> --seconds <s>
  ping           --count <n>
  hold           --connections <n>
  churn          --seconds <s> --size <bytes> [--concurrency <k>]";

/// A usage error: reported with the usage text and exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

pub enum Command {
    Listen { addr: Multiaddr },
    Run { remote: Remote, metric: Metric },
}

/// The peer to dial: its transport address (without /p2p/) and its identity.
#[derive(Clone)]
pub struct Remote {
    pub addr: Multiaddr,
    pub peer_id: PeerId,
}

pub enum Metric {
    Perf {
        upload: u64,
        download: u64,
    },
    Setup {
        count: u64,
    },
    HandshakeRate {
        concurrency: u64,
        duration: Duration,
    },
    Ping {
        count: u64,
    },
    Hold {
        connections: u64,
    },
    Churn {
        duration: Duration,
        size: u64,
        concurrency: Option<u64>,
    },
}

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let (command, rest) = args
        .split_first()
        .ok_or_else(|| UsageError("missing command (listen or run)".into()))?;
    let mut options = Options::parse(rest)?;
    let parsed = match command.as_str() {
        "listen" => {
            let text = options
                .take("addr")
                .unwrap_or_else(|| "/ip4/127.0.0.1/tcp/0".into());
            Command::Listen {
                addr: parse_multiaddr("--addr", &text)?,
            }
        }
        "run" => {
            let remote = parse_remote(&options.require("remote")?)?;
            let metric = parse_metric(&mut options)?;
            Command::Run { remote, metric }
        }
        other => return Err(UsageError(format!("unknown command '{other}'"))),
    };
    options.reject_leftovers(command)?;
    Ok(parsed)
}

fn parse_metric(options: &mut Options) -> Result<Metric, UsageError> {
    let name = options.require("metric")?;
    Ok(match name.as_str() {
        "perf" => Metric::Perf {
            upload: options.size("upload")?,
            download: options.size("download")?,
        },
        "setup" => Metric::Setup {
            count: options.positive("count")?,
        },
        "handshake-rate" => Metric::HandshakeRate {
            concurrency: options.positive("concurrency")?,
            duration: options.seconds("seconds")?,
        },
        "ping" => Metric::Ping {
            count: options.positive("count")?,
        },
        "hold" => Metric::Hold {
            connections: options.positive("connections")?,
        },
        "churn" => Metric::Churn {
            duration: options.seconds("seconds")?,
            size: options.size("size")?,
            concurrency: match options.take("concurrency") {
                Some(text) => Some(positive_number("concurrency", &text)?),
                None => None,
            },
        },
        other => return Err(UsageError(format!("unknown metric '{other}'"))),
    })
}

fn parse_multiaddr(option: &str, text: &str) -> Result<Multiaddr, UsageError> {
    text.parse::<Multiaddr>()
        .map_err(|error| UsageError(format!("{option}: invalid multiaddr '{text}': {error}")))
}

fn parse_remote(text: &str) -> Result<Remote, UsageError> {
    let mut addr = parse_multiaddr("--remote", text)?;
    match addr.pop() {
        Some(Protocol::P2p(peer_id)) => Ok(Remote { addr, peer_id }),
        _ => Err(UsageError(format!(
            "--remote: '{text}' does not end in /p2p/<peer id>"
        ))),
    }
}

fn parse_size(option: &str, text: &str) -> Result<u64, UsageError> {
    let invalid = || {
        UsageError(format!(
            "--{option}: expected a number (K, M, G allowed), got '{text}'"
        ))
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let value: u64 = digits.parse().map_err(|_| invalid())?;
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KIB" => 10,
        "M" | "MIB" => 20,
        "G" | "GIB" => 30,
        _ => return Err(invalid()),
    };
    value.checked_mul(1u64 << shift).ok_or_else(invalid)
}

fn positive_number(option: &str, text: &str) -> Result<u64, UsageError> {
    match parse_size(option, text)? {
        0 => Err(UsageError(format!("--{option}: must be at least 1"))),
        value => Ok(value),
    }
}

/// `--name value` pairs, each name given at most once.
struct Options(HashMap<String, String>);

impl Options {
    fn parse(args: &[String]) -> Result<Self, UsageError> {
        let mut map = HashMap::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(UsageError(format!("unexpected argument '{arg}'")));
            };
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => {
                    let value = iter
                        .next()
                        .ok_or_else(|| UsageError(format!("option '{arg}' needs a value")))?;
                    (body.to_string(), value.clone())
                }
            };
            if name.is_empty() {
                return Err(UsageError(format!("malformed option '{arg}'")));
            }
            if map.insert(name.clone(), value).is_some() {
                return Err(UsageError(format!("option '--{name}' given twice")));
            }
        }
        Ok(Options(map))
    }

    fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    fn require(&mut self, name: &str) -> Result<String, UsageError> {
        self.take(name)
            .ok_or_else(|| UsageError(format!("missing option --{name}")))
    }

    fn size(&mut self, name: &str) -> Result<u64, UsageError> {
        parse_size(name, &self.require(name)?)
    }

    fn positive(&mut self, name: &str) -> Result<u64, UsageError> {
        positive_number(name, &self.require(name)?)
    }

    fn seconds(&mut self, name: &str) -> Result<Duration, UsageError> {
        let text = self.require(name)?;
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() && value > 0.0 && value <= 86_400.0 => {
                Ok(Duration::from_secs_f64(value))
            }
            _ => Err(UsageError(format!(
                "--{name}: expected seconds between 0 and 86400, got '{text}'"
            ))),
        }
    }

    fn reject_leftovers(&self, command: &str) -> Result<(), UsageError> {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        match names.first() {
            Some(name) => Err(UsageError(format!(
                "unknown option --{name} for '{command}'"
            ))),
            None => Ok(()),
        }
    }
}
