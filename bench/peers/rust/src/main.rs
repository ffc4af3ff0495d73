//! rust-libp2p benchmark peer: `peer listen` serves perf, ping and echo; `peer run` measures one
//! metric against a listener and prints one JSON line. See args.rs for the command line.
//!
//! Exit status: 0 success, 1 failure (message on stderr), 2 usage error.

mod args;
mod metrics;
mod node;
mod protocols;
mod streams;

use std::process::exit;

use args::{Command, UsageError, USAGE};

/// Thousands of connections need thousands of descriptors: take all the hard limit allows.
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max
        {
            return;
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            eprintln!(
                "peer: could not raise the open file limit to {}",
                limit.rlim_max
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(
        args.first().map(String::as_str),
        Some("--help" | "-h" | "help")
    ) {
        node::print_line(USAGE);
        exit(0);
    }
    let command = match args::parse(&args) {
        Ok(command) => command,
        Err(UsageError(message)) => {
            eprintln!("peer: {message}\n{USAGE}");
            exit(2);
        }
    };
    raise_descriptor_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("peer: cannot start the async runtime: {error}");
            exit(1);
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Listen { addr } => node::listen(addr).await.map(|()| None),
            Command::Run { remote, metric } => metrics::run(remote, metric).await,
        }
    });
    // Exit without tearing the runtime down: the stdin watcher thread may still be blocked in
    // a read, and open connections are closed by the kernel either way.
    match result {
        Ok(line) => {
            if let Some(line) = line {
                node::print_line(&line);
            }
            exit(0);
        }
        Err(message) => {
            eprintln!("peer: {message}");
            exit(1);
        }
    }
}
