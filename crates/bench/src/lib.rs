//! What the benchmark programs share: reading a process's memory from /proc and writing
//! numbers the French way.

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

/// French grouping of thousands: 10 000.
pub fn grouped(value: usize) -> String {
    let digits = value.to_string();
    let mut text = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(' ');
        }
        text.push(digit);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped_with_a_space() {
        assert_eq!(super::grouped(7), "7");
        assert_eq!(super::grouped(1000), "1 000");
        assert_eq!(super::grouped(1234567), "1 234 567");
    }

    #[test]
    fn own_memory_is_read() {
        assert!(super::status_bytes("self", "VmRSS").unwrap() > 0);
        assert!(super::status_bytes("self", "NoSuchField").is_none());
    }
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
