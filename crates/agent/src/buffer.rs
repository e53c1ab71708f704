//! The agent's store-and-forward buffer on disk: each batch is one file, written whole (temporary
//! file, fsync, rename) before it is sent, and removed only once the server accepted it; so a
//! batch collected while the link or the server is down, or before the agent is killed, is sent
//! later, in order, exactly once (the server recognises a batch sent twice by its sequence).
//! Bounded in count and bytes: when full, the oldest batches go and the count of what was
//! dropped is kept and reported.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why the buffer cannot be used, in French.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    #[error("tampon {path} : {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tampon {path} : état illisible ({message})")]
    Corrupt { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BufferError + '_ {
    move |source| BufferError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Limits of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most batches kept (a week at one a minute by default).
    pub max_batches: usize,
    /// Most bytes kept, all batches together.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batches: 7 * 24 * 60,
            max_bytes: 200 * 1024 * 1024,
        }
    }
}

/// What survives restarts besides the batches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    next_sequence: i64,
    dropped: u64,
}

/// A batch waiting in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub sequence: i64,
    pub body: Vec<u8>,
}

/// The buffer in its directory.
#[derive(Debug)]
pub struct Buffer {
    directory: PathBuf,
    limits: Limits,
    state: State,
}

const STATE_FILE: &str = "state.json";
const BATCH_SUFFIX: &str = ".batch";

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BufferError> {
    let temporary = path.with_extension("tmp");
    let mut file = fs::File::create(&temporary).map_err(io(&temporary))?;
    file.write_all(bytes).map_err(io(&temporary))?;
    file.sync_all().map_err(io(&temporary))?;
    fs::rename(&temporary, path).map_err(io(path))?;
    // The rename itself must reach the disk before the batch counts as kept.
    if let Some(parent) = path.parent() {
        fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io(parent))?;
    }
    Ok(())
}

impl Buffer {
    /// Opens (creating if needed) the buffer in `directory`.
    pub fn open(directory: &Path, limits: Limits) -> Result<Buffer, BufferError> {
        fs::create_dir_all(directory).map_err(io(directory))?;
        let state_path = directory.join(STATE_FILE);
        let mut state = match fs::read(&state_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| BufferError::Corrupt {
                path: state_path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                next_sequence: 1,
                dropped: 0,
            },
            Err(e) => return Err(io(&state_path)(e)),
        };
        let mut buffer = Buffer {
            directory: directory.to_owned(),
            limits,
            state: state.clone(),
        };
        // A batch written but whose state update was lost (killed in between) must not have its
        // sequence reused.
        if let Some(last) = buffer.sequences()?.last() {
            state.next_sequence = state.next_sequence.max(last + 1);
        }
        buffer.state = state;
        Ok(buffer)
    }

    fn batch_path(&self, sequence: i64) -> PathBuf {
        self.directory.join(format!("{sequence:020}{BATCH_SUFFIX}"))
    }

    /// Sequences of the batches waiting, oldest first.
    pub fn sequences(&self) -> Result<Vec<i64>, BufferError> {
        let mut sequences = Vec::new();
        for entry in fs::read_dir(&self.directory).map_err(io(&self.directory))? {
            let entry = entry.map_err(io(&self.directory))?;
            let name = entry.file_name();
            if let Some(number) = name.to_str().and_then(|n| n.strip_suffix(BATCH_SUFFIX))
                && let Ok(sequence) = number.parse::<i64>()
            {
                sequences.push(sequence);
            }
        }
        sequences.sort_unstable();
        Ok(sequences)
    }

    /// How many batches were dropped because the buffer was full, since it was created.
    pub fn dropped(&self) -> u64 {
        self.state.dropped
    }

    /// Keeps a new batch, built by `make(sequence, dropped_so_far)`, then drops the oldest
    /// batches while over the limits. Returns the batch's sequence.
    pub fn push(&mut self, make: impl FnOnce(i64, u64) -> Vec<u8>) -> Result<i64, BufferError> {
        let sequence = self.state.next_sequence;
        let body = make(sequence, self.state.dropped);
        write_atomically(&self.batch_path(sequence), &body)?;
        self.state.next_sequence += 1;
        self.enforce_limits()?;
        self.save_state()?;
        Ok(sequence)
    }

    fn enforce_limits(&mut self) -> Result<(), BufferError> {
        let sequences = self.sequences()?;
        let mut sizes = Vec::with_capacity(sequences.len());
        for &sequence in &sequences {
            let path = self.batch_path(sequence);
            sizes.push(fs::metadata(&path).map_err(io(&path))?.len());
        }
        let mut total: u64 = sizes.iter().sum();
        let mut count = sequences.len();
        for (sequence, size) in sequences.iter().zip(sizes) {
            // The newest batch is always kept, even alone over the byte limit.
            if count <= 1 || (count <= self.limits.max_batches && total <= self.limits.max_bytes) {
                break;
            }
            let path = self.batch_path(*sequence);
            fs::remove_file(&path).map_err(io(&path))?;
            self.state.dropped += 1;
            total -= size;
            count -= 1;
        }
        Ok(())
    }

    fn save_state(&self) -> Result<(), BufferError> {
        let bytes = serde_json::to_vec(&self.state).expect("state serialises");
        write_atomically(&self.directory.join(STATE_FILE), &bytes)
    }

    /// The oldest batch waiting, if any.
    pub fn oldest(&self) -> Result<Option<Pending>, BufferError> {
        let Some(&sequence) = self.sequences()?.first() else {
            return Ok(None);
        };
        let path = self.batch_path(sequence);
        let body = fs::read(&path).map_err(io(&path))?;
        Ok(Some(Pending { sequence, body }))
    }

    /// The server accepted the batch: it leaves the buffer.
    pub fn remove(&mut self, sequence: i64) -> Result<(), BufferError> {
        let path = self.batch_path(sequence);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The server refused the batch for good (malformed for it): it is set aside in
    /// `rejected/` (bounded like the buffer) so that it does not block the ones after it.
    pub fn reject(&mut self, sequence: i64) -> Result<(), BufferError> {
        let rejected = self.directory.join("rejected");
        fs::create_dir_all(&rejected).map_err(io(&rejected))?;
        let from = self.batch_path(sequence);
        let to = rejected.join(format!("{sequence:020}{BATCH_SUFFIX}"));
        fs::rename(&from, &to).map_err(io(&from))?;
        let mut kept: Vec<PathBuf> = fs::read_dir(&rejected)
            .map_err(io(&rejected))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        kept.sort();
        const MAX_REJECTED: usize = 100;
        while kept.len() > MAX_REJECTED {
            let oldest = kept.remove(0);
            fs::remove_file(&oldest).map_err(io(&oldest))?;
        }
        Ok(())
    }
}
