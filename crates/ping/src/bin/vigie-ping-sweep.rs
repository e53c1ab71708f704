//! `vigie-ping-sweep`: one sweep from the command line, results as one JSON document on stdout.
//!
//! Thin glue over `Pinger::ping_many`, used by the tests and the benchmark to run the engine
//! inside a network namespace (`ip netns exec NAME vigie-ping-sweep …`).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use vigie_ping::{PingResult, Pinger, SweepOptions};

/// Largest targets file read, in bytes: 16 bytes per address leaves room for a million.
const TARGETS_FILE_MAX_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Parser)]
#[command(about = "Ping des cibles IPv4 et affiche les résultats en JSON")]
struct Arguments {
    /// Target addresses.
    targets: Vec<Ipv4Addr>,
    /// File of target addresses, one per line (blank lines and `#` comments ignored).
    #[arg(long)]
    targets_file: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Smallest gap between two sends, in microseconds (0: no limit).
    #[arg(long, default_value_t = 10)]
    interval_us: u64,
    #[arg(long, default_value_t = 1000)]
    round_interval_ms: u64,
    #[arg(long, default_value_t = 56)]
    payload_size: usize,
    /// Print the totals only, not one result per target.
    #[arg(long)]
    summary_only: bool,
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    match run(&arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vigie-ping-sweep : {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(arguments: &Arguments) -> Result<(), String> {
    let mut targets = arguments.targets.clone();
    if let Some(path) = &arguments.targets_file {
        targets.extend(read_targets_file(path)?);
    }
    let options = SweepOptions {
        timeout: Duration::from_millis(arguments.timeout_ms),
        count: arguments.count,
        interval: Duration::from_micros(arguments.interval_us),
        round_interval: Duration::from_millis(arguments.round_interval_ms),
        payload_size: arguments.payload_size,
    };
    let pinger = Pinger::new().map_err(|error| error.to_string())?;
    let started = Instant::now();
    let results = pinger
        .ping_many(&targets, &options)
        .map_err(|error| error.to_string())?;
    let elapsed = started.elapsed();

    let mut document = json!({
        "targets": results.len(),
        "alive": results.iter().filter(|result| result.is_alive()).count(),
        "sent": results.iter().map(|result| u64::from(result.sent)).sum::<u64>(),
        "received": results.iter().map(|result| u64::from(result.received)).sum::<u64>(),
        "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
    });
    if !arguments.summary_only {
        document["results"] = results.iter().map(result_json).collect();
    }
    println!("{document}");
    Ok(())
}

fn result_json(result: &PingResult) -> serde_json::Value {
    let microseconds = |rtt: Option<Duration>| rtt.map(|rtt| rtt.as_secs_f64() * 1e6);
    json!({
        "target": result.target.to_string(),
        "sent": result.sent,
        "received": result.received,
        "rtt_min_us": microseconds(result.rtt_min),
        "rtt_avg_us": microseconds(result.rtt_avg),
        "rtt_max_us": microseconds(result.rtt_max),
    })
}

fn read_targets_file(path: &PathBuf) -> Result<Vec<Ipv4Addr>, String> {
    let size = std::fs::metadata(path)
        .map_err(|error| format!("{} : {error}", path.display()))?
        .len();
    if size > TARGETS_FILE_MAX_BYTES {
        return Err(format!(
            "{} : fichier de cibles trop gros ({size} octets, au plus {TARGETS_FILE_MAX_BYTES})",
            path.display()
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("{} : {error}", path.display()))?;
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let address = line.parse().map_err(|_| {
            format!(
                "{}, ligne {} : adresse IPv4 invalide « {line} »",
                path.display(),
                index + 1
            )
        })?;
        targets.push(address);
    }
    Ok(targets)
}
