//! The agent's buffer on disk: bounded, oldest dropped first and counted, sequences never
//! reused across restarts (even when the state file was lost), a refused batch set aside.

use std::path::PathBuf;

use vigie_agent::{Buffer, Limits};

fn directory(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("vigie-agent-buffer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    path
}

#[test]
fn a_full_buffer_drops_the_oldest_and_counts_them() {
    let path = directory("full");
    let mut buffer = Buffer::open(
        &path,
        Limits {
            max_batches: 3,
            max_bytes: 1_000_000,
        },
    )
    .unwrap();
    for _ in 0..5 {
        buffer
            .push(|sequence, dropped| format!("{sequence}:{dropped}").into_bytes())
            .unwrap();
    }
    assert_eq!(buffer.sequences().unwrap(), vec![3, 4, 5]);
    assert_eq!(buffer.dropped(), 2);
    // The count of what was dropped is handed to the next batch.
    buffer
        .push(|sequence, dropped| format!("{sequence}:{dropped}").into_bytes())
        .unwrap();
    let newest = std::fs::read(path.join(format!("{:020}.batch", 6))).unwrap();
    assert_eq!(newest, b"6:2");
    // Bytes bound too; the newest batch always stays.
    let mut small = Buffer::open(
        &directory("bytes"),
        Limits {
            max_batches: 100,
            max_bytes: 10,
        },
    )
    .unwrap();
    small.push(|_, _| vec![b'x'; 8]).unwrap();
    small.push(|_, _| vec![b'y'; 8]).unwrap();
    assert_eq!(small.sequences().unwrap(), vec![2]);
    small.push(|_, _| vec![b'z'; 50]).unwrap();
    assert_eq!(small.sequences().unwrap(), vec![3]);
    let _ = std::fs::remove_dir_all(&path);
}

#[test]
fn sequences_survive_restarts_and_sent_batches_leave() {
    let path = directory("restart");
    let limits = Limits::default();
    let mut buffer = Buffer::open(&path, limits).unwrap();
    assert_eq!(buffer.push(|_, _| b"a".to_vec()).unwrap(), 1);
    assert_eq!(buffer.push(|_, _| b"b".to_vec()).unwrap(), 2);
    drop(buffer);
    let mut buffer = Buffer::open(&path, limits).unwrap();
    let oldest = buffer.oldest().unwrap().unwrap();
    assert_eq!(
        (oldest.sequence, oldest.body.as_slice()),
        (1, b"a".as_slice())
    );
    buffer.remove(1).unwrap();
    assert_eq!(buffer.push(|_, _| b"c".to_vec()).unwrap(), 3);
    // Killed after writing a batch but before saving the state: the next sequence still
    // follows the newest batch on disk.
    std::fs::remove_file(path.join("state.json")).unwrap();
    let mut buffer = Buffer::open(&path, limits).unwrap();
    assert_eq!(buffer.push(|_, _| b"d".to_vec()).unwrap(), 4);
    buffer.reject(2).unwrap();
    assert_eq!(buffer.sequences().unwrap(), vec![3, 4]);
    assert!(
        path.join("rejected")
            .join(format!("{:020}.batch", 2))
            .exists()
    );
    // A corrupt state file is a clear error, not a silent reset of the sequences.
    std::fs::write(path.join("state.json"), b"{").unwrap();
    let error = Buffer::open(&path, limits).unwrap_err().to_string();
    assert!(error.contains("état illisible"), "{error}");
    let _ = std::fs::remove_dir_all(&path);
}
