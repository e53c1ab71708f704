//! `vigie-bench-alarms`: Vigie's alarm engine (`vigie_domain::alarm::Engine`) evaluating the
//! reachability rule of 100,000 pinged cameras over an hour with 1 % flapping and 0.5 % real
//! outages, compared in the same run with Prometheus 2.42 evaluating the equivalent
//! `for: 5m` alerting rule over the same data (`promtool test rules`): CPU per evaluation,
//! exactness against the generator's oracle, memory per equipment. Prints a Markdown section
//! for docs/benchmarks.md with the command that reproduces it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vigie_bench::{cpu_of, grouped, status_bytes};

use anyhow::{Context, bail};
use clap::Parser;
use vigie_domain::alarm::{AlarmTransition, Engine, Transition};
use vigie_domain::inventory::{Checks, Enabled, Equipment, EquipmentKind};
use vigie_domain::policy::Policy;
use vigie_domain::supervision::{CheckName, CheckStatus, Observation, checks};
use vigie_domain::{Name, Reference};

/// Alarm rule evaluation, against Prometheus.
#[derive(Debug, Parser)]
struct Options {
    /// Pinged cameras.
    #[arg(long, default_value_t = 100_000)]
    equipment: usize,
    /// Minutes of data, one ping per camera per minute (at least 30).
    #[arg(long, default_value_t = 60)]
    minutes: usize,
    /// Runs of each CPU measure; the median is kept.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seed of the data set.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Cameras per promtool test group: promtool's test engine refuses a query that holds
    /// more than 10,000 samples, which `up == 0` reaches at about 5,000 series.
    #[arg(long, default_value_t = 2_000)]
    prometheus_group: usize,
    /// Also measure Prometheus's memory with every series in one TSDB (minutes at 100,000:
    /// promtool builds its input in quadratic time).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    prometheus_memory: bool,
    #[arg(long, default_value = "/usr/bin/promtool")]
    promtool: PathBuf,
}

/// Any instant will do; this one is 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;
const MINUTE_MS: i64 = 60_000;

/// SplitMix64: a tiny deterministic generator, so that the data set is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high` (the modulo bias is negligible here).
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// How a camera behaves over the period, and so what each tool must say of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Always up.
    Stable,
    /// Down once, without a break, for 10 minutes or more: one alarm from each tool.
    Outage,
    /// Down 1 to 3 minutes every 16 to 24 minutes: under 5 minutes, and under Vigie's
    /// flapping threshold (6 changes within 30 minutes): no alarm from either tool.
    Intermittent,
    /// Down 1 to 3 minutes, up 1 to 3 minutes, all along: under 5 minutes, so no Prometheus
    /// alert; over the flapping threshold, so one Vigie alarm marked flapping, by design (a
    /// condition that comes and goes too often is one alarm, neither silence nor a storm).
    Unstable,
}

const CLASSES: [Class; 4] = [
    Class::Stable,
    Class::Outage,
    Class::Intermittent,
    Class::Unstable,
];

impl Class {
    fn label(self) -> &'static str {
        match self {
            Class::Stable => "toujours en service",
            Class::Outage => "panne réelle (10 min ou plus d'affilée)",
            Class::Intermittent => "coupures de 1 à 3 min espacées (sous le seuil d'instabilité)",
            Class::Unstable => "coupures de 1 à 3 min rapprochées (au-delà du seuil d'instabilité)",
        }
    }

    /// Vigie's expected alarms: (plain, marked flapping).
    fn vigie_expected(self) -> (u32, u32) {
        match self {
            Class::Stable | Class::Intermittent => (0, 0),
            Class::Outage => (1, 0),
            Class::Unstable => (0, 1),
        }
    }

    fn prometheus_expected(self) -> u32 {
        u32::from(self == Class::Outage)
    }
}

/// The cameras' pings over the period: the same data for both tools.
struct DataSet {
    minutes: usize,
    classes: Vec<Class>,
    /// Whether camera `e` is down at minute `m`: `down[e * minutes + m]`.
    down: Vec<bool>,
}

impl DataSet {
    /// 0.5 % outages, 1 % flapping (half intermittent, half unstable), the rest stable, spread
    /// at random over the cameras (and so over every promtool group).
    fn generate(equipment: usize, minutes: usize, seed: u64) -> DataSet {
        let mut rng = Rng(seed);
        let outages = equipment * 5 / 1000;
        let flapping = equipment / 100;
        let intermittent = flapping / 2;
        let mut order: Vec<usize> = (0..equipment).collect();
        for i in (1..equipment).rev() {
            order.swap(i, rng.between(0, i));
        }
        let mut classes = vec![Class::Stable; equipment];
        for (rank, &index) in order.iter().take(outages + flapping).enumerate() {
            classes[index] = if rank < outages {
                Class::Outage
            } else if rank < outages + intermittent {
                Class::Intermittent
            } else {
                Class::Unstable
            };
        }
        let mut down = vec![false; equipment * minutes];
        for (index, class) in classes.iter().enumerate() {
            let row = &mut down[index * minutes..(index + 1) * minutes];
            match class {
                Class::Stable => {}
                Class::Outage => {
                    // Starts early enough for its 5 minutes to run out well before the end.
                    let start = rng.between(1, minutes - 15);
                    let length = rng.between(10, minutes - start);
                    row[start..start + length].fill(true);
                }
                Class::Intermittent => {
                    // Any 6 changes span at least 2 periods (32 min): never 6 within 30 min.
                    let period = rng.between(16, 24);
                    let mut start = rng.between(0, period - 1);
                    while start < minutes {
                        let end = (start + rng.between(1, 3)).min(minutes);
                        row[start..end].fill(true);
                        start += period;
                    }
                }
                Class::Unstable => {
                    // 6 changes within at most 3 × 6 minutes, starting by minute 10.
                    let mut start = rng.between(0, 10);
                    while start < minutes {
                        let end = (start + rng.between(1, 3)).min(minutes);
                        row[start..end].fill(true);
                        start = end + rng.between(1, 3);
                    }
                }
            }
        }
        DataSet {
            minutes,
            classes,
            down,
        }
    }

    fn len(&self) -> usize {
        self.classes.len()
    }

    fn row(&self, index: usize) -> &[bool] {
        &self.down[index * self.minutes..(index + 1) * self.minutes]
    }

    fn count(&self, class: Class) -> usize {
        self.classes.iter().filter(|c| **c == class).count()
    }
}

fn reference(index: usize) -> String {
    format!("CAM-{index:06}")
}

fn index_of(reference: &str) -> usize {
    reference["CAM-".len()..]
        .parse()
        .expect("the bench names every camera CAM-nnnnnn")
}

fn camera(index: usize) -> anyhow::Result<Equipment> {
    Ok(Equipment {
        reference: Reference::parse(&reference(index))?,
        site: Reference::parse("SITE-BENCH")?,
        name: Name::parse(&format!("Caméra {index}"))?,
        kind: EquipmentKind::Camera,
        camera_role: None,
        address: None,
        parent: None,
        model: None,
        firmware: None,
        checks: Checks {
            ping: Some(Enabled {}),
            ..Checks::default()
        },
    })
}

fn own_rss() -> u64 {
    status_bytes("self", "VmRSS").unwrap_or(0)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Alarms expected against alarms raised, over many equipment.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    expected: u64,
    raised: u64,
    missed: u64,
    extra: u64,
}

impl Tally {
    fn add(&mut self, expected: u32, raised: u32) {
        self.expected += u64::from(expected);
        self.raised += u64::from(raised);
        self.missed += u64::from(expected.saturating_sub(raised));
        self.extra += u64::from(raised.saturating_sub(expected));
    }

    fn exact(&self) -> bool {
        self.missed == 0 && self.extra == 0
    }
}

/// One run of Vigie's engine over the whole data set.
struct VigieRun {
    cpu: Duration,
    wall: Duration,
    /// Alarms raised per camera: (plain, marked flapping).
    raised: Vec<(u32, u32)>,
    /// The most the resident memory grew over its start, sampled once a minute of data.
    growth: u64,
    tracked: usize,
}

fn count_raised(raised: &mut [(u32, u32)], transitions: Vec<AlarmTransition>) {
    for t in transitions {
        if let Transition::Raised { flapping, .. } = t.transition {
            let counts = &mut raised[index_of(t.equipment.as_str())];
            if flapping {
                counts.1 += 1;
            } else {
                counts.0 += 1;
            }
        }
    }
}

/// Feeds every ping in time order into one engine, as the server does: at each minute, first
/// what the held durations bring (`tick`), then the minute's observations.
fn run_vigie(
    data: &DataSet,
    policy: &Policy,
    cameras: &[Equipment],
    observations: &mut [Observation],
) -> anyhow::Result<VigieRun> {
    let mut raised = vec![(0, 0); data.len()];
    let rss_before = own_rss();
    let (cpu_before, _) = cpu_of("self")?;
    let started = Instant::now();
    let mut engine = Engine::new();
    let mut growth = 0;
    let mut tracked = 0;
    for minute in 0..data.minutes {
        let now = START_MS + minute as i64 * MINUTE_MS;
        count_raised(&mut raised, engine.tick(now));
        for (index, observation) in observations.iter_mut().enumerate() {
            observation.at = now;
            observation.status = Some(if data.down[index * data.minutes + minute] {
                CheckStatus::Down
            } else {
                CheckStatus::Up
            });
            count_raised(
                &mut raised,
                engine.observe(policy, &cameras[index], observation),
            );
        }
        // Once per minute of data: a few microseconds against the minute's evaluations.
        growth = growth.max(own_rss().saturating_sub(rss_before));
        tracked = tracked.max(engine.tracked());
    }
    let wall = started.elapsed();
    let (cpu_after, _) = cpu_of("self")?;
    drop(engine);
    Ok(VigieRun {
        cpu: cpu_after - cpu_before,
        wall,
        raised,
        growth,
        tracked,
    })
}

/// The engine's memory when every camera is tracked at once: all down at the same instant.
fn vigie_worst_case(
    policy: &Policy,
    cameras: &[Equipment],
    observations: &mut [Observation],
) -> (u64, usize) {
    let rss_before = own_rss();
    let mut engine = Engine::new();
    for (camera, observation) in cameras.iter().zip(observations.iter_mut()) {
        observation.at = START_MS;
        observation.status = Some(CheckStatus::Down);
        engine.observe(policy, camera, observation);
    }
    (own_rss().saturating_sub(rss_before), engine.tracked())
}

/// A directory removed with everything in it when dropped, on every path.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> anyhow::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("vigie-bench-alarms-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when dropped, should the bench stop before it ends.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One run of `promtool test rules`.
struct PromtoolRun {
    cpu: Duration,
    wall: Duration,
    /// Its peak resident memory (VmHWM, read every 20 ms while it runs).
    peak: u64,
    /// What it printed, standard output then error.
    output: String,
}

fn run_promtool(promtool: &Path, test: &Path, dir: &Path) -> anyhow::Result<PromtoolRun> {
    // To files, not pipes: a full pipe would stall promtool while this process polls it.
    let out = dir.join("promtool.out");
    let err = dir.join("promtool.err");
    let (_, children_before) = cpu_of("self")?;
    let started = Instant::now();
    let mut child = ChildGuard(
        Command::new(promtool)
            .args(["test", "rules"])
            .arg(test)
            .stdin(Stdio::null())
            .stdout(File::create(&out)?)
            .stderr(File::create(&err)?)
            .spawn()
            .with_context(|| format!("{} ne démarre pas", promtool.display()))?,
    );
    let pid = child.0.id().to_string();
    let mut peak = 0;
    while child.0.try_wait()?.is_none() {
        // VmHWM only grows: the last reading is within 20 ms of the end.
        peak = peak.max(status_bytes(&pid, "VmHWM").unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed();
    let (_, children_after) = cpu_of("self")?;
    let output = std::fs::read_to_string(&out)? + &std::fs::read_to_string(&err)?;
    Ok(PromtoolRun {
        cpu: children_after - children_before,
        wall,
        peak,
        output,
    })
}

/// A camera's pings in promtool's notation: `1x19 0x15 1x24` is 20 ups (`up` = 1), 16
/// downs, 25 ups, one a minute.
fn promtool_values(row: &[bool]) -> String {
    let mut text = String::new();
    let mut start = 0;
    while start < row.len() {
        let mut end = start + 1;
        while end < row.len() && row[end] == row[start] {
            end += 1;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push(if row[start] { '0' } else { '1' });
        if end - start > 1 {
            let _ = write!(text, "x{}", end - start - 1);
        }
        start = end;
    }
    text
}

/// The alerting rule, the same as in a Prometheus configuration: `up == 0` for 5 minutes.
const RULE: &str = "groups:\n  - name: vigie\n    interval: 1m\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 5m\n";
/// The same group without the rule: what promtool costs without evaluating it.
const NO_RULE: &str = "groups:\n  - name: vigie\n    interval: 1m\n    rules: []\n";

/// The firing episodes of `Down` per camera at the end: each evaluation (one a minute) where
/// the alert fires and did not fire the minute before starts one.
fn episodes_query(minutes: usize) -> String {
    let firing = "ALERTS{alertname=\"Down\",alertstate=\"firing\"}";
    format!(
        "sum by (equipment) (sum_over_time(({firing} unless {firing} offset 1m)[{}m:1m]))",
        minutes + 10
    )
}

/// The promtool test file: one test group per `group` cameras, each with its own in-memory
/// TSDB, evaluating the rule file each minute from 0 to the last ping. Each group then asks for
/// the firing episodes and expects none: promtool prints what it got for every group that has
/// some, which is how the bench reads the alerts back (so promtool exits 1 when there are).
fn promtool_test(data: &DataSet, group: usize, rule_file: &str) -> String {
    let last = data.minutes - 1;
    let mut text = format!("rule_files:\n  - {rule_file}\nevaluation_interval: 1m\ntests:\n");
    let query = episodes_query(data.minutes).replace('\'', "''");
    for first in (0..data.len()).step_by(group) {
        text.push_str("  - interval: 1m\n    input_series:\n");
        for index in first..(first + group).min(data.len()) {
            let _ = writeln!(
                text,
                "      - series: 'up{{equipment=\"{}\"}}'\n        values: '{}'",
                reference(index),
                promtool_values(data.row(index))
            );
        }
        let _ = writeln!(
            text,
            "    promql_expr_test:\n      - expr: '{query}'\n        eval_time: {last}m\n        exp_samples: []"
        );
    }
    text
}

/// For the memory run: every camera in one test group, so in one TSDB as in a Prometheus
/// server. The rule is split by a `shard` label only to keep each query under promtool's
/// 10,000-sample limit.
fn promtool_memory_test(data: &DataSet, shard: usize) -> (String, String) {
    let last = data.minutes - 1;
    let mut rules = String::from("groups:\n  - name: vigie\n    interval: 1m\n    rules:\n");
    for first in (0..data.len()).step_by(shard) {
        let _ = writeln!(
            rules,
            "      - alert: Down\n        expr: up{{shard=\"{}\"}} == 0\n        for: 5m",
            first / shard
        );
    }
    let mut test = String::from(
        "rule_files:\n  - memory-rules.yml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n",
    );
    for index in 0..data.len() {
        let _ = writeln!(
            test,
            "      - series: 'up{{equipment=\"{}\",shard=\"{}\"}}'\n        values: '{}'",
            reference(index),
            index / shard,
            promtool_values(data.row(index))
        );
    }
    let _ = writeln!(
        test,
        "    promql_expr_test:\n      - expr: 'vector(1)'\n        eval_time: {last}m\n        exp_samples:\n          - labels: '{{}}'\n            value: 1"
    );
    (rules, test)
}

/// Reads the firing episodes per camera out of promtool's report (`got: {equipment="CAM-…"}
/// 1E+00, …`); a camera it does not name had none. Anything else than these expected
/// mismatches (an evaluation error) is an error.
fn parse_episodes(output: &str, equipment: usize) -> anyhow::Result<Vec<u32>> {
    if output.contains("err:") || !(output.contains("SUCCESS") || output.contains("FAILED")) {
        bail!("promtool a échoué :\n{}", excerpt(output));
    }
    let mut episodes = vec![0; equipment];
    for line in output.lines() {
        let Some(got) = line.trim_start().strip_prefix("got:") else {
            continue;
        };
        for item in got.split(", ") {
            let item = item.trim();
            if item == "nil" {
                continue;
            }
            let (labels, value) = item
                .rsplit_once(' ')
                .with_context(|| format!("« {item} » illisible"))?;
            let camera = labels
                .strip_prefix("{equipment=\"")
                .and_then(|l| l.strip_suffix("\"}"))
                .with_context(|| format!("« {labels} » illisible"))?;
            let value: f64 = value.parse()?;
            episodes[index_of(camera)] = value as u32;
        }
    }
    Ok(episodes)
}

fn excerpt(output: &str) -> String {
    output.chars().take(2_000).collect()
}

/// Prometheus's side: CPU of the rule (with minus without it), alerts, memory.
struct PrometheusOutcome {
    version: String,
    cpu_with: Duration,
    cpu_without: Duration,
    wall_with: Duration,
    episodes: Vec<u32>,
    /// Peak resident memory of promtool with every series in one TSDB, when measured.
    memory_peak: Option<u64>,
    memory_wall: Option<Duration>,
}

fn measure_prometheus(options: &Options, data: &DataSet) -> anyhow::Result<PrometheusOutcome> {
    let version = Command::new(&options.promtool)
        .arg("--version")
        .output()
        .with_context(|| format!("{} introuvable", options.promtool.display()))?;
    let version = String::from_utf8_lossy(&version.stdout)
        .split_whitespace()
        .nth(2)
        .unwrap_or("?")
        .to_owned();
    let dir = TempDir::create()?;
    std::fs::write(dir.0.join("rule.yml"), RULE)?;
    std::fs::write(dir.0.join("no-rule.yml"), NO_RULE)?;
    let with_rule = dir.0.join("with-rule.yml");
    let without_rule = dir.0.join("without-rule.yml");
    std::fs::write(
        &with_rule,
        promtool_test(data, options.prometheus_group, "rule.yml"),
    )?;
    std::fs::write(
        &without_rule,
        promtool_test(data, options.prometheus_group, "no-rule.yml"),
    )?;
    let (mut cpu_with, mut cpu_without, mut wall_with) = (Vec::new(), Vec::new(), Vec::new());
    let mut episodes: Option<Vec<u32>> = None;
    for run in 0..options.runs {
        eprintln!("Prometheus, exécution {} sur {}…", run + 1, options.runs);
        let with = run_promtool(&options.promtool, &with_rule, &dir.0)?;
        let found = parse_episodes(&with.output, data.len())?;
        if episodes.as_ref().is_some_and(|e| *e != found) {
            bail!("promtool ne donne pas les mêmes alertes d'une exécution à l'autre");
        }
        episodes = Some(found);
        cpu_with.push(with.cpu);
        wall_with.push(with.wall);
        let without = run_promtool(&options.promtool, &without_rule, &dir.0)?;
        if !without.output.contains("SUCCESS") {
            bail!("promtool sans la règle :\n{}", excerpt(&without.output));
        }
        cpu_without.push(without.cpu);
    }
    let (mut memory_peak, mut memory_wall) = (None, None);
    if options.prometheus_memory {
        eprintln!("Prometheus, mémoire avec toutes les séries dans une seule base…");
        let (rules, test) = promtool_memory_test(data, options.prometheus_group);
        std::fs::write(dir.0.join("memory-rules.yml"), rules)?;
        let test_file = dir.0.join("memory-test.yml");
        std::fs::write(&test_file, test)?;
        let run = run_promtool(&options.promtool, &test_file, &dir.0)?;
        if !run.output.contains("SUCCESS") {
            bail!("promtool, mesure de mémoire :\n{}", excerpt(&run.output));
        }
        memory_peak = Some(run.peak);
        memory_wall = Some(run.wall);
    }
    Ok(PrometheusOutcome {
        version,
        cpu_with: median(cpu_with),
        cpu_without: median(cpu_without),
        wall_with: median(wall_with),
        episodes: episodes.unwrap_or_default(),
        memory_peak,
        memory_wall,
    })
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if options.minutes < 30 {
        bail!("--minutes : au moins 30, pour que les instables dépassent le seuil d'instabilité");
    }
    if options.equipment == 0 || options.runs == 0 || options.prometheus_group == 0 {
        bail!("--equipment, --runs et --prometheus-group : au moins 1");
    }
    let policy = Policy::default_policy();
    let timing = policy.alarm_timing();
    // The generator's classes are drawn for these values (docs/policy.md's defaults).
    if (
        timing.raise_after_ms,
        timing.flap_changes,
        timing.flap_window_ms,
    ) != (5 * MINUTE_MS, 6, 30 * MINUTE_MS)
    {
        bail!(
            "le jeu de données suppose la politique par défaut : alarme après 5 min, instable à 6 changements en 30 min ; trouvé {timing:?}"
        );
    }
    let n = options.equipment;
    eprintln!("jeu de données : {n} caméras, {} minutes…", options.minutes);
    let data = DataSet::generate(n, options.minutes, options.seed);
    let cameras = (0..n).map(camera).collect::<anyhow::Result<Vec<_>>>()?;
    let ping = CheckName::parse(checks::PING)?;
    let mut observations: Vec<Observation> = cameras
        .iter()
        .map(|camera| Observation {
            equipment: camera.reference.clone(),
            check: ping.clone(),
            at: START_MS,
            status: Some(CheckStatus::Up),
            detail: None,
            samples: Vec::new(),
            facts: BTreeMap::new(),
        })
        .collect();

    let mut vigie_runs = Vec::new();
    for run in 0..options.runs {
        eprintln!("Vigie, exécution {} sur {}…", run + 1, options.runs);
        vigie_runs.push(run_vigie(&data, &policy, &cameras, &mut observations)?);
    }
    if vigie_runs.iter().any(|r| r.raised != vigie_runs[0].raised) {
        bail!("Vigie ne lève pas les mêmes alarmes d'une exécution à l'autre");
    }
    // After the runs, whose engines were small: the worst case cannot hide in their freed memory.
    let (worst_growth, worst_tracked) = vigie_worst_case(&policy, &cameras, &mut observations);
    let vigie_peak = status_bytes("self", "VmHWM").unwrap_or(0);
    let prometheus = measure_prometheus(&options, &data)?;

    let first = &vigie_runs[0];
    let vigie_cpu = median(vigie_runs.iter().map(|r| r.cpu).collect());
    let vigie_wall = median(vigie_runs.iter().map(|r| r.wall).collect());
    let evaluations = (n * options.minutes) as f64;
    let mut vigie = Tally::default();
    let mut prom = Tally::default();
    // Per class, in the order of CLASSES: Vigie's tally, its flapping alarms, Prometheus's.
    let mut by_class = [(Tally::default(), 0, Tally::default()); CLASSES.len()];
    for (index, class) in data.classes.iter().enumerate() {
        let (plain, flapping) = class.vigie_expected();
        let (got_plain, got_flapping) = first.raised[index];
        let slot = &mut by_class[CLASSES.iter().position(|c| c == class).unwrap_or(0)];
        for tally in [&mut vigie, &mut slot.0] {
            tally.add(plain, got_plain);
            tally.add(flapping, got_flapping);
        }
        slot.1 += got_flapping;
        for tally in [&mut prom, &mut slot.2] {
            tally.add(class.prometheus_expected(), prometheus.episodes[index]);
        }
    }
    let prom_cpu = prometheus.cpu_with.saturating_sub(prometheus.cpu_without);

    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let kernel: Vec<&str> = kernel.trim().split('.').take(2).collect();
    println!(
        "## Règles d'alarme : {} équipements, comparé à Prometheus\n",
        grouped(n)
    );
    println!(
        "Objectif : au plus 2 µs de processeur par évaluation, au plus 2 Ko de mémoire par \
         équipement, et des alarmes exactes : une par panne réelle, aucune pour une coupure de \
         moins de 5 minutes.\n"
    );
    println!(
        "Mesuré le {} (Linux {}, {cores} cœurs, promtool {}) : {n} caméras pingées toutes les \
         60 s pendant {} min, soit {} évaluations par outil (une évaluation : une caméra à une \
         minute) ; graine {} ; médiane de {} exécution(s).\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d"),
        kernel.join("."),
        prometheus.version,
        options.minutes,
        n * options.minutes,
        options.seed,
        options.runs
    );
    println!(
        "Les mêmes données pour les deux outils, tirées par un générateur déterministe : 0,5 % \
         des caméras ont une panne réelle (10 min d'affilée au moins) ; 1 % ont des coupures \
         de 1 à 3 min, pour moitié espacées de 16 à 24 min (sous le seuil d'instabilité de la \
         politique, 6 changements en 30 min), pour moitié rapprochées (1 à 3 min de service \
         entre deux coupures : au-delà du seuil) ; les autres restent en service. Attendu : \
         pour Prometheus, une alerte par panne réelle et aucune pour les coupures ; pour \
         Vigie, de même, plus une alarme marquée « instable » par caméra aux coupures \
         rapprochées, par conception (une condition qui va et vient trop souvent fait une \
         seule alarme).\n"
    );
    println!(
        "Vigie : toutes les observations, minute par minute, dans un seul `alarm::Engine` avec \
         `Policy::default_policy()` (alarme après 5 min, fin après 2 min), `tick` à chaque \
         minute, sur un seul fil ; CPU utilisateur + système du processus sur toute la boucle ; \
         mémoire : croissance de la mémoire résidente pendant la boucle. Prometheus : `promtool \
         test rules` fait tourner son vrai moteur de règles (PromQL, base TSDB en mémoire, état \
         `for`) avec la règle `alert: Down`, `expr: up == 0`, `for: 5m`, évaluée chaque minute \
         sur les séries `up{{equipment=…}}` (1 en service, 0 en panne), par groupes de {} \
         caméras (son moteur de test refuse une requête de plus de 10 000 échantillons) ; son \
         CPU est celui de promtool avec la règle moins celui de promtool sans la règle (mêmes \
         données chargées, mêmes pas d'évaluation) ; ses alertes sont relues par une requête \
         des épisodes déclenchés (`ALERTS{{alertstate=\"firing\"}}` présent à une minute, \
         absent à la précédente).\n",
        options.prometheus_group
    );
    println!(
        "| Outil | Évaluations | CPU total (s) | CPU par évaluation (µs) | Mémoire par équipement (octets) | Alarmes attendues | levées | manquées | en trop |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| Vigie, `alarm::Engine` (politique par défaut) | {} | {:.2} | {:.3} | {:.0} | {} | {} | {} | {} |",
        n * options.minutes,
        vigie_cpu.as_secs_f64(),
        vigie_cpu.as_secs_f64() * 1e6 / evaluations,
        first.growth as f64 / n as f64,
        vigie.expected,
        vigie.raised,
        vigie.missed,
        vigie.extra
    );
    println!(
        "| Prometheus {}, règle `for: 5m` (promtool test rules) | {} | {:.2} | {:.3} | {} | {} | {} | {} | {} |",
        prometheus.version,
        n * options.minutes,
        prom_cpu.as_secs_f64(),
        prom_cpu.as_secs_f64() * 1e6 / evaluations,
        prometheus
            .memory_peak
            .map_or("—".to_owned(), |p| format!("{:.0}", p as f64 / n as f64)),
        prom.expected,
        prom.raised,
        prom.missed,
        prom.extra
    );
    println!("\nPar classe de caméras (alarmes attendues / levées) :\n");
    println!(
        "| Caméras | Nombre | Vigie : attendues | Vigie : levées (dont « instable ») | Prometheus : attendues | Prometheus : levées |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (class, (vigie_class, flapping, prom_class)) in CLASSES.iter().zip(&by_class) {
        println!(
            "| {} | {} | {} | {} ({flapping}) | {} | {} |",
            class.label(),
            data.count(*class),
            vigie_class.expected,
            vigie_class.raised,
            prom_class.expected,
            prom_class.raised
        );
    }
    println!(
        "\nExactitude : Vigie {}, Prometheus {}.",
        if vigie.exact() { "exact" } else { "inexact" },
        if prom.exact() { "exact" } else { "inexact" }
    );
    println!(
        "\nDétails : Vigie {:.2} s de durée par exécution, au plus {} conditions suivies à la \
         fois ; pire cas, les {n} caméras en panne au même instant ({worst_tracked} conditions \
         suivies) : {:.0} octets par équipement ; pic du processus de mesure entier (jeu de \
         données, inventaire, observations et pire cas compris) : {:.0} octets par \
         équipement. promtool avec la règle : {:.2} s de CPU ({:.1} s de durée), sans la \
         règle : {:.2} s.",
        vigie_wall.as_secs_f64(),
        first.tracked,
        worst_growth as f64 / n as f64,
        vigie_peak as f64 / n as f64,
        prometheus.cpu_with.as_secs_f64(),
        prometheus.wall_with.as_secs_f64(),
        prometheus.cpu_without.as_secs_f64(),
    );
    if let (Some(peak), Some(wall)) = (prometheus.memory_peak, prometheus.memory_wall) {
        println!(
            "Mémoire de Prometheus : pic du processus promtool avec les {n} séries dans une \
             seule base ({:.0} Mo, {:.0} s de durée), divisé par {n}.",
            peak as f64 / 1e6,
            wall.as_secs_f64()
        );
    }
    println!(
        "\nReproduire : `cargo run --release -p vigie-bench --bin vigie-bench-alarms -- --equipment {n} --minutes {} --runs {} --seed {}`",
        options.minutes, options.runs, options.seed
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The longest run of downs in a row, and whether some 6 changes fall within 30 minutes.
    fn longest_down_and_flapping(row: &[bool]) -> (usize, bool) {
        let (mut longest, mut current) = (0, 0);
        let mut changes = Vec::new();
        for (minute, down) in row.iter().enumerate() {
            current = if *down { current + 1 } else { 0 };
            longest = longest.max(current);
            if minute > 0 && row[minute - 1] != *down {
                changes.push(minute);
            }
        }
        let flapping = changes.windows(6).any(|w| w[5] - w[0] < 30);
        (longest, flapping)
    }

    #[test]
    fn the_classes_keep_their_promises() {
        let data = DataSet::generate(20_000, 60, 7);
        assert_eq!(data.count(Class::Outage), 100);
        assert_eq!(data.count(Class::Intermittent), 100);
        assert_eq!(data.count(Class::Unstable), 100);
        for (index, class) in data.classes.iter().enumerate() {
            let (longest, flapping) = longest_down_and_flapping(data.row(index));
            match class {
                Class::Stable => assert_eq!(longest, 0),
                Class::Outage => assert!(longest >= 10 && !flapping),
                Class::Intermittent => assert!((1..5).contains(&longest) && !flapping),
                Class::Unstable => assert!((1..5).contains(&longest) && flapping),
            }
        }
    }

    #[test]
    fn vigie_is_exact_on_a_small_set() {
        let data = DataSet::generate(2_000, 60, 3);
        let policy = Policy::default_policy();
        let cameras: Vec<Equipment> = (0..data.len()).map(|i| camera(i).unwrap()).collect();
        let mut observations: Vec<Observation> = cameras
            .iter()
            .map(|c| Observation {
                equipment: c.reference.clone(),
                check: CheckName::parse(checks::PING).unwrap(),
                at: START_MS,
                status: None,
                detail: None,
                samples: Vec::new(),
                facts: BTreeMap::new(),
            })
            .collect();
        let run = run_vigie(&data, &policy, &cameras, &mut observations).unwrap();
        for (index, class) in data.classes.iter().enumerate() {
            assert_eq!(run.raised[index], class.vigie_expected(), "{class:?}");
        }
    }

    #[test]
    fn french_grouping() {
        assert_eq!(grouped(100_000), "100\u{202F}000");
        assert_eq!(grouped(2_500), "2\u{202F}500");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn promtool_notation() {
        assert_eq!(
            promtool_values(&[false, false, true, false, true, true]),
            "1x1 0 1 0x1"
        );
    }

    #[test]
    fn promtool_report_is_read_back() {
        let output = "Unit Testing:  t.yml\n  FAILED:\n    expr: \"…\", time: 59m,\n        exp: nil\n        got: {equipment=\"CAM-000002\"} 1E+00, {equipment=\"CAM-000005\"} 2E+00\n";
        let episodes = parse_episodes(output, 6).unwrap();
        assert_eq!(episodes, vec![0, 0, 1, 0, 0, 2]);
        assert!(
            parse_episodes(
                "  FAILED:\n    rule: Down, time: 0s, err: too many samples",
                6
            )
            .is_err()
        );
    }
}
