//! What the agent reads of its host (SUP-1, SUP-3): CPU and memory use, temperatures, disk use
//! per mount, the configured services (the recording service) and the hostname, from `/proc`,
//! `/sys` and `statvfs`. Parsers take text so that they are tested on any machine.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Most mounts and temperature sensors reported, so that an odd host cannot flood a batch.
pub const MAX_MOUNTS: usize = 64;
pub const MAX_SENSORS: usize = 64;

/// File systems that hold data; the rest (proc, tmpfs, cgroup…) are not disks.
const DISK_FILESYSTEMS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "vfat", "exfat", "ntfs", "ntfs3", "f2fs", "jfs",
    "reiserfs", "nfs", "nfs4", "cifs", "fuseblk",
];

/// Cumulative CPU time counters of the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
}

/// Reads the `cpu` line of `/proc/stat`.
pub fn parse_cpu_times(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    if values.len() < 4 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest is already inside user).
    let idle = values[3] + values.get(4).copied().unwrap_or(0);
    let total: u64 = values.iter().take(8).sum();
    Some(CpuTimes {
        busy: total.saturating_sub(idle),
        total,
    })
}

/// CPU use in percent between two readings.
pub fn cpu_percent(before: CpuTimes, after: CpuTimes) -> Option<f64> {
    let total = after.total.checked_sub(before.total)?;
    let busy = after.busy.checked_sub(before.busy)?;
    (total > 0).then(|| (busy as f64 * 100.0 / total as f64).clamp(0.0, 100.0))
}

/// Memory in use, in percent, from `/proc/meminfo` (MemTotal − MemAvailable).
pub fn parse_memory_percent(meminfo: &str) -> Option<f64> {
    let field = |name: &str| -> Option<f64> {
        meminfo.lines().find_map(|l| {
            l.strip_prefix(name)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
    };
    let total = field("MemTotal:")?;
    let available = field("MemAvailable:")?;
    (total > 0.0).then(|| ((total - available) * 100.0 / total).clamp(0.0, 100.0))
}

/// The mount points of disk file systems in `/proc/mounts` (the root too when it is an
/// overlay, as in a container), without duplicates.
pub fn parse_mounts(mounts: &str) -> Vec<String> {
    let mut points = Vec::new();
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_device), Some(point), Some(kind)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        // /proc/mounts escapes spaces as \040.
        let point = point.replace("\\040", " ");
        let wanted = DISK_FILESYSTEMS.contains(&kind) || (point == "/" && kind == "overlay");
        if wanted && !points.contains(&point) && points.len() < MAX_MOUNTS {
            points.push(point);
        }
    }
    points
}

/// Metric names allow only some characters: a mount point or a sensor name is folded into them.
pub fn metric_suffix(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-') {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    folded.chars().take(100).collect()
}

/// Disk use of a mount point, in percent of what ordinary users can use (as `df` shows it).
pub fn disk_used_percent(point: &Path) -> Option<f64> {
    let stat = nix::sys::statvfs::statvfs(point).ok()?;
    let block = stat.fragment_size() as f64;
    let total = stat.blocks() as f64 * block;
    let free = stat.blocks_free() as f64 * block;
    let available = stat.blocks_available() as f64 * block;
    let used = total - free;
    let usable = used + available;
    (usable > 0.0).then(|| (used * 100.0 / usable).clamp(0.0, 100.0))
}

/// Temperatures in °C by sensor name, from thermal zones and hwmon sensors.
pub fn temperatures(sys: &Path) -> BTreeMap<String, f64> {
    let mut found = BTreeMap::new();
    let read_millidegrees = |path: &Path| -> Option<f64> {
        fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .map(|m| m / 1000.0)
    };
    if let Ok(zones) = fs::read_dir(sys.join("class/thermal")) {
        for zone in zones.flatten() {
            let name = zone.file_name().to_string_lossy().into_owned();
            if !name.starts_with("thermal_zone") || found.len() >= MAX_SENSORS {
                continue;
            }
            let kind = fs::read_to_string(zone.path().join("type"))
                .map(|t| t.trim().to_owned())
                .unwrap_or(name.clone());
            if let Some(celsius) = read_millidegrees(&zone.path().join("temp")) {
                found.insert(metric_suffix(&format!("{kind}-{name}")), celsius);
            }
        }
    }
    if let Ok(monitors) = fs::read_dir(sys.join("class/hwmon")) {
        for monitor in monitors.flatten() {
            let chip = fs::read_to_string(monitor.path().join("name"))
                .map(|t| t.trim().to_owned())
                .unwrap_or_default();
            let Ok(entries) = fs::read_dir(monitor.path()) else {
                continue;
            };
            let mut inputs: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("temp") && n.ends_with("_input"))
                .collect();
            inputs.sort();
            for input in inputs {
                if found.len() >= MAX_SENSORS {
                    break;
                }
                if let Some(celsius) = read_millidegrees(&monitor.path().join(&input)) {
                    let label = input.trim_end_matches("_input");
                    found.insert(
                        metric_suffix(&format!(
                            "{chip}-{}-{label}",
                            monitor.file_name().to_string_lossy()
                        )),
                        celsius,
                    );
                }
            }
        }
    }
    found
}

/// Whether a process named `name` runs (its `comm` in `/proc`), which works the same with or
/// without systemd, in a container as on the host.
pub fn service_running(proc: &Path, name: &str) -> bool {
    let Ok(entries) = fs::read_dir(proc) else {
        return false;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .any(|e| fs::read_to_string(e.path().join("comm")).is_ok_and(|comm| comm.trim() == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_memory_and_mounts_are_read_from_their_text() {
        let before = parse_cpu_times("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n").unwrap();
        let after = parse_cpu_times("cpu  150 0 150 900 0 0 0 0 0 0\n").unwrap();
        assert_eq!(cpu_percent(before, after), Some(50.0));
        assert_eq!(parse_cpu_times("cpu  x"), None);
        assert_eq!(
            parse_memory_percent("MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 250 kB\n"),
            Some(75.0)
        );
        assert_eq!(
            parse_memory_percent("MemTotal: 0 kB\nMemAvailable: 0 kB\n"),
            None
        );
        let mounts = "overlay / overlay rw 0 0\nproc /proc proc rw 0 0\n/dev/sda1 /srv/video\\040archive ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n/dev/sda1 /srv/video\\040archive ext4 rw 0 0\n";
        assert_eq!(
            parse_mounts(mounts),
            vec!["/".to_string(), "/srv/video archive".to_string()]
        );
        assert_eq!(metric_suffix("/srv/video archive"), "/srv/video_archive");
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(text in ".{0,400}") {
            let _ = parse_cpu_times(&text);
            let _ = parse_memory_percent(&text);
            let _ = parse_mounts(&text);
            let _ = metric_suffix(&text);
        }
    }
}
