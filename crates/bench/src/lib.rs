//! What the benchmark programs share: reading a process's memory from /proc, writing
//! numbers the French way, and the fleet of clients, sites and equipment they build.

use std::fmt::Write as _;

/// A benchmark fleet's shape: `clients`, each with `sites_per_client` sites of
/// `equipment_per_site` equipment.
#[derive(Debug, Clone, Copy)]
pub struct FleetShape {
    pub clients: usize,
    pub sites_per_client: usize,
    pub equipment_per_site: usize,
}

impl FleetShape {
    pub fn equipment(self) -> usize {
        self.clients * self.sites_per_client * self.equipment_per_site
    }
}

pub fn client_ref(client: usize) -> String {
    format!("CLI-{client:02}")
}

pub fn site_ref(client: usize, site: usize) -> String {
    format!("S{client:02}-{site:03}")
}

pub fn equipment_ref(client: usize, site: usize, index: usize) -> String {
    format!("E{client:02}-{site:03}-{index:03}")
}

/// The fleet as an inventory file, after `header` (e.g. the staff): each client one contract
/// under supervision with the dashboard, its sites, their equipment (a switch, then cameras
/// behind it), each with its ping check.
pub fn fleet_inventory(shape: FleetShape, header: &str) -> String {
    let mut text = format!("version = 1\n\n{header}");
    for client in 0..shape.clients {
        let _ = writeln!(
            text,
            "[[client]]\nref = \"{0}\"\nname = \"Client {client:02}\"\n\n[[contract]]\nref = \"CTR-{client:02}\"\nclient = \"{0}\"\ntier = \"standard\"\noptions = [\"supervision\", \"dashboard\"]\n",
            client_ref(client)
        );
        for site in 0..shape.sites_per_client {
            let _ = writeln!(
                text,
                "[[site]]\nref = \"{}\"\nclient = \"{}\"\ncontract = \"CTR-{client:02}\"\nname = \"Site {client:02}-{site:03}\"\n",
                site_ref(client, site),
                client_ref(client)
            );
            for index in 0..shape.equipment_per_site {
                let (kind, parent) = if index == 0 {
                    ("switch", String::new())
                } else {
                    (
                        "camera",
                        format!("parent = \"{}\"\n", equipment_ref(client, site, 0)),
                    )
                };
                let _ = writeln!(
                    text,
                    "[[equipment]]\nref = \"{}\"\nsite = \"{}\"\nname = \"Équipement {index:03}\"\nkind = \"{kind}\"\n{parent}checks = {{ ping = {{}} }}\n",
                    equipment_ref(client, site, index),
                    site_ref(client, site)
                );
            }
        }
    }
    text
}

/// A memory line of /proc/<pid>/status (VmRSS, VmHWM), in bytes; `pid` may be `self`.
pub fn status_bytes(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    let kib: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// CPU time (user + system) of process `pid` ("self" for this one), and of its waited-for
/// children, from /proc/<pid>/stat, in ticks of 10 ms (USER_HZ on Linux): plenty for runs of
/// seconds. getrusage would need unsafe code, which the workspace forbids.
pub fn cpu_of(pid: &str) -> anyhow::Result<(std::time::Duration, std::time::Duration)> {
    use anyhow::Context as _;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("/proc/{pid}/stat illisible"))?;
    // The command name, in parentheses, may hold spaces: count the fields after its ')'.
    let after = stat.rfind(')').context("/proc/<pid>/stat illisible")?;
    let fields: Vec<&str> = stat[after + 1..].split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .context("/proc/<pid>/stat incomplet")?
            .parse()?)
    };
    let own = ticks(11)? + ticks(12)?;
    let children = ticks(13)? + ticks(14)?;
    Ok((
        std::time::Duration::from_millis(own * 10),
        std::time::Duration::from_millis(children * 10),
    ))
}

/// French grouping of thousands: 10 000 (the product's one formatter).
pub fn grouped(value: usize) -> String {
    vigie_domain::french::format_number(value as f64, 0)
}

/// A number the French way, as the product writes it: decimal comma, grouped thousands.
pub fn fr(value: f64, decimals: u8) -> String {
    vigie_domain::french::format_number(value, decimals)
}

/// The nearest-rank percentile of sorted values (NaN when there are none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `document` with its section titled `title` (a `## ` heading) replaced by `section`, or
/// `section` added at the end when there is none: how each benchmark rewrites its own part of
/// docs/benchmarks.md.
pub fn replace_section(document: &str, title: &str, section: &str) -> String {
    let section = section.trim_end();
    match document.find(title) {
        Some(start) => {
            let after = start + title.len();
            let end = document[after..]
                .find("\n## ")
                .map_or(document.len(), |i| after + i + 1);
            let rest = &document[end..];
            let separator = if rest.is_empty() { "\n" } else { "\n\n" };
            format!("{}{section}{separator}{rest}", &document[..start])
        }
        None => format!("{}\n\n{section}\n", document.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped_with_a_narrow_no_break_space() {
        assert_eq!(super::grouped(7), "7");
        assert_eq!(super::grouped(1000), "1\u{202F}000");
        assert_eq!(super::grouped(1234567), "1\u{202F}234\u{202F}567");
    }

    #[test]
    fn the_fleet_is_an_inventory_of_its_shape() {
        let shape = super::FleetShape {
            clients: 2,
            sites_per_client: 3,
            equipment_per_site: 4,
        };
        let text = super::fleet_inventory(shape, "");
        let inventory = vigie_domain::inventory::file::InventoryFile::parse(&text)
            .expect("the fleet parses")
            .inventory;
        assert_eq!(inventory.clients.len(), 2);
        assert_eq!(inventory.sites.len(), 6);
        assert_eq!(inventory.equipment.len(), shape.equipment());
        assert_eq!(super::equipment_ref(1, 2, 3), "E01-002-003");
    }

    #[test]
    fn own_memory_is_read() {
        assert!(super::status_bytes("self", "VmRSS").unwrap() > 0);
        assert!(super::status_bytes("self", "NoSuchField").is_none());
    }
}
