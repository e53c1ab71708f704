//! `vigie-ping-bench`: measures our sweep against fping on the same targets in the same run,
//! and prints a Markdown section for docs/benchmarks.md.
//!
//! The targets are addresses of local routes inside a throw-away network namespace, so the
//! kernel answers every one of them and the numbers measure the pingers, not a network. Each
//! tool runs as a child process (`ip netns exec`); its CPU time is the growth of
//! getrusage(RUSAGE_CHILDREN) across its run. Needs root, iproute2 and fping.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::{Duration, Instant};

use clap::Parser;
use nix::sys::resource::{UsageWho, getrusage};
use vigie_ping::netns::{Namespace, require_tool};

/// The two ranges the namespace answers for: a /16 for the small sweep, a /15 for the large.
const SMALL_RANGE: (&str, [u8; 2]) = ("10.77.0.0/16", [10, 77]);
const LARGE_RANGE: (&str, [u8; 2]) = ("10.78.0.0/15", [10, 78]);
/// Addresses usable in a /16 once those ending in .0 and .255 are left out.
const ADDRESSES_PER_SLASH_16: usize = 256 * 254;
/// fping 5.1 refuses more than 65,535 targets in one run ("not enough sequence numbers
/// available"), so larger sweeps give it chunks of this many, one after the other.
const FPING_TARGETS_PER_RUN_MAX: usize = 50_000;

/// Most runs of each tool: enough for a stable median, few enough to finish in minutes.
const RUNS_MAX: i64 = 25;

#[derive(Parser)]
#[command(about = "Compare le balayage ICMP de Vigie à fping et affiche un tableau Markdown")]
struct Arguments {
    /// Sweep sizes (at most 65,024 for the first, 130,048 for the others).
    #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000])]
    sizes: Vec<usize>,
    /// Timeout per probe, for both tools.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Runs of each tool; the table shows the medians.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=RUNS_MAX))]
    runs: u32,
}

fn main() -> ExitCode {
    match run(&Arguments::parse()) {
        Ok(markdown) => {
            print!("{markdown}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("vigie-ping-bench : {message}");
            ExitCode::FAILURE
        }
    }
}

/// One row of the table.
struct Measurement {
    targets: usize,
    tool: String,
    alive: usize,
    wall: Duration,
    cpu: Duration,
}

impl Measurement {
    fn cpu_ms_per_thousand_pings(&self) -> f64 {
        self.cpu.as_secs_f64() * 1000.0 / (self.targets as f64 / 1000.0)
    }
}

fn run(arguments: &Arguments) -> Result<String, String> {
    require_tool("fping", "fping").map_err(|error| error.to_string())?;
    let sweep_binary = sibling_binary("vigie-ping-sweep")?;
    let namespace = Namespace::create("bench").map_err(|error| error.to_string())?;
    for (range, _) in [SMALL_RANGE, LARGE_RANGE] {
        namespace
            .ip(&["route", "add", "local", range, "dev", "lo"])
            .map_err(|error| error.to_string())?;
    }
    let timeout_ms = arguments.timeout_ms.to_string();
    let mut rows = Vec::new();
    for (index, &size) in arguments.sizes.iter().enumerate() {
        let (prefix, slash_16s) = if index == 0 {
            (SMALL_RANGE.1, 1)
        } else {
            (LARGE_RANGE.1, 2)
        };
        if size == 0 || size > slash_16s * ADDRESSES_PER_SLASH_16 {
            return Err(format!("taille de balayage impossible : {size}"));
        }
        let all = addresses(prefix, size);
        let targets = TargetsFile::write(&all, "all")?;
        let fping_chunks = all
            .chunks(FPING_TARGETS_PER_RUN_MAX)
            .enumerate()
            .map(|(index, chunk)| TargetsFile::write(chunk, &format!("fping-{index}")))
            .collect::<Result<Vec<_>, _>>()?;
        let tools = [
            "vigie-ping, interval 0",
            "vigie-ping, default interval 10 µs",
            "fping -i 0 -c 1 -q",
        ];
        // Runs alternate between the tools, so that a neighbour's load falls on all of them.
        let mut runs: Vec<Vec<Measurement>> = tools.iter().map(|_| Vec::new()).collect();
        for _ in 0..arguments.runs {
            for (interval_us, tool_runs) in ["0", "10"].into_iter().zip(&mut runs) {
                let mut command = namespace.command(&sweep_binary.display().to_string());
                command.args(["--summary-only", "--timeout-ms", &timeout_ms]);
                command.args(["--interval-us", interval_us, "--targets-file"]);
                command.arg(targets.path());
                let (wall, cpu, output) = measure(&mut command)?;
                tool_runs.push(Measurement {
                    targets: size,
                    tool: String::new(),
                    alive: sweep_alive(&output)?,
                    wall,
                    cpu,
                });
            }
            let mut fping = Measurement {
                targets: size,
                tool: String::new(),
                alive: 0,
                wall: Duration::ZERO,
                cpu: Duration::ZERO,
            };
            for chunk in &fping_chunks {
                let mut command = namespace.command("fping");
                command.args(["-i", "0", "-c", "1", "-q", "-t", &timeout_ms, "-f"]);
                command.arg(chunk.path());
                let (wall, cpu, output) = measure(&mut command)?;
                fping.alive += fping_alive(&output)?;
                fping.wall += wall;
                fping.cpu += cpu;
            }
            runs[2].push(fping);
        }
        for (tool, tool_runs) in tools.into_iter().zip(runs) {
            rows.push(median(tool, size, &tool_runs));
        }
    }
    Ok(markdown(arguments, &rows))
}

/// The median wall clock and the median CPU time of the runs (each on its own), and the
/// smallest alive count: one slow run does not make the row, one lost reply shows.
fn median(tool: &str, targets: usize, runs: &[Measurement]) -> Measurement {
    let middle = |mut values: Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    Measurement {
        targets,
        tool: tool.to_owned(),
        alive: runs.iter().map(|run| run.alive).min().unwrap_or(0),
        wall: middle(runs.iter().map(|run| run.wall).collect()),
        cpu: middle(runs.iter().map(|run| run.cpu).collect()),
    }
}

/// Runs a child to completion: its wall-clock time, its CPU time (user + system), its output.
fn measure(command: &mut Command) -> Result<(Duration, Duration, Output), String> {
    let cpu_before = children_cpu()?;
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|error| format!("lancement de {command:?} impossible : {error}"))?;
    let wall = started.elapsed();
    let cpu = children_cpu()?.saturating_sub(cpu_before);
    Ok((wall, cpu, output))
}

/// User + system time of every child reaped so far.
fn children_cpu() -> Result<Duration, String> {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)
        .map_err(|error| format!("getrusage impossible : {error}"))?;
    let seconds = |time: nix::sys::time::TimeVal| {
        Duration::from_secs(time.tv_sec().unsigned_abs())
            + Duration::from_micros(time.tv_usec().unsigned_abs())
    };
    Ok(seconds(usage.user_time()) + seconds(usage.system_time()))
}

fn sweep_alive(output: &Output) -> Result<usize, String> {
    if !output.status.success() {
        return Err(format!(
            "vigie-ping-sweep a échoué : {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("sortie de vigie-ping-sweep illisible : {error}"))?;
    document["alive"]
        .as_u64()
        .map(|alive| alive as usize)
        .ok_or_else(|| "sortie de vigie-ping-sweep sans « alive »".to_owned())
}

/// Counts the targets of fping's `-c` summary (on stderr) that received at least one reply:
/// `10.77.0.1 : xmt/rcv/%loss = 1/1/0%, min/avg/max = …`.
fn fping_alive(output: &Output) -> Result<usize, String> {
    // fping exits with 1 when some target did not answer; 2 and above are its own errors.
    if output.status.code().is_none_or(|code| code > 1) {
        return Err(format!(
            "fping a échoué : {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let summary = String::from_utf8_lossy(&output.stderr);
    Ok(summary
        .lines()
        .filter_map(|line| {
            line.split_once("xmt/rcv/%loss = ")
                .map(|(_, counts)| counts)
        })
        .filter_map(|counts| counts.split('/').nth(1)?.parse::<u32>().ok())
        .filter(|&received| received > 0)
        .count())
}

/// The first `count` addresses of `prefix`.0.0 onwards, leaving out .0 and .255.
fn addresses(prefix: [u8; 2], count: usize) -> Vec<String> {
    (0..count)
        .map(|index| {
            let third = index / 254;
            let fourth = index % 254 + 1;
            format!(
                "{}.{}.{}.{fourth}",
                prefix[0],
                usize::from(prefix[1]) + third / 256,
                third % 256
            )
        })
        .collect()
}

/// A file of targets in the temporary directory, removed on drop.
struct TargetsFile {
    path: PathBuf,
}

impl TargetsFile {
    fn write(addresses: &[String], name: &str) -> Result<TargetsFile, String> {
        let path = std::env::temp_dir().join(format!(
            "vigie-ping-bench-{}-{name}-{}.txt",
            std::process::id(),
            addresses.len()
        ));
        std::fs::write(&path, addresses.join("\n") + "\n")
            .map_err(|error| format!("{} : {error}", path.display()))?;
        Ok(TargetsFile { path })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TargetsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `vigie-ping-sweep` sits next to this binary in the same target directory.
fn sibling_binary(name: &str) -> Result<PathBuf, String> {
    let current = std::env::current_exe()
        .map_err(|error| format!("chemin de vigie-ping-bench introuvable : {error}"))?;
    let path = current.with_file_name(name);
    if !path.exists() {
        return Err(format!(
            "{} introuvable : lancer `cargo build --release -p vigie-ping` d'abord",
            path.display()
        ));
    }
    Ok(path)
}

/// One line of a command's output, or "?" when the command is missing.
fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|output| {
            // fping prints its version on stdout, some tools on stderr.
            let text = if output.stdout.is_empty() {
                output.stderr
            } else {
                output.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("?")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn markdown(arguments: &Arguments, rows: &[Measurement]) -> String {
    let mut text = String::new();
    let date = first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let nproc = first_line("nproc", &[]);
    let kernel = first_line("uname", &["-r"]);
    let fping_version = first_line("fping", &["-v"]);
    let _ = writeln!(text, "## ICMP sweep: vigie-ping against fping\n");
    let _ = writeln!(
        text,
        "Measured {date} on a machine with `nproc` = {nproc} (Linux {kernel}, {fping_version}), \
         by `vigie-ping-bench`. The targets are addresses of local routes \
         (`ip route add local {} dev lo` and `{}`) inside a network namespace: the kernel \
         answers every one, so this measures the pingers, not a network. One probe per \
         target, timeout {} ms for both tools, median of {} runs of each, alternating. CPU is user + system time of the tool's \
         process (getrusage of the reaped child); wall clock includes starting it.\n",
        SMALL_RANGE.0, LARGE_RANGE.0, arguments.timeout_ms, arguments.runs
    );
    let _ = writeln!(
        text,
        "| Targets | Tool | Alive | Wall clock (s) | CPU user+sys (s) | CPU per 1,000 pings (ms) |"
    );
    let _ = writeln!(text, "|---:|---|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {:.2} | {:.2} | {:.1} |",
            thousands(row.targets),
            row.tool,
            thousands(row.alive),
            row.wall.as_secs_f64(),
            row.cpu.as_secs_f64(),
            row.cpu_ms_per_thousand_pings()
        );
    }
    let _ = writeln!(text);
    for size in &arguments.sizes {
        let cpu_per_ping = |tool_prefix: &str| {
            rows.iter()
                .find(|row| row.targets == *size && row.tool.starts_with(tool_prefix))
                .map(Measurement::cpu_ms_per_thousand_pings)
        };
        if let (Some(ours), Some(fping)) = (
            cpu_per_ping("vigie-ping, interval 0"),
            cpu_per_ping("fping"),
        ) && fping > 0.0
        {
            let _ = writeln!(
                text,
                "- {} targets: vigie-ping (interval 0) uses {:.2}× fping's CPU per ping.",
                thousands(*size),
                ours / fping
            );
        }
    }
    if arguments
        .sizes
        .iter()
        .any(|&size| size > FPING_TARGETS_PER_RUN_MAX)
    {
        let _ = writeln!(
            text,
            "- fping 5.1 refuses more than 65,535 targets in one run (\"not enough sequence \
             numbers available\"), so above {} targets it runs on chunks of {}, one after the \
             other; its row is the sum.",
            thousands(FPING_TARGETS_PER_RUN_MAX),
            thousands(FPING_TARGETS_PER_RUN_MAX)
        );
    }
    let sizes: Vec<String> = arguments.sizes.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        text,
        "\nReproduce (as root, with the Debian packages iproute2 and fping):\n\n```sh\n\
         cargo build --release -p vigie-ping && ./target/release/vigie-ping-bench --sizes {} --timeout-ms {} --runs {}\n```",
        sizes.join(","),
        arguments.timeout_ms,
        arguments.runs
    );
    text
}
