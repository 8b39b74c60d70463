//! Temporary files and directories, removed when a test is done with them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh path under the system temp dir (no file created yet).
pub fn temp_db_path(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir()
        .join(format!(
            "oauth1-provider-test-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
        .join(format!("{name}.sqlite3"))
}

/// A directory removed, with everything in it, when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the target's tmp dir.
    pub fn new(name: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{name}-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }

    /// The temp dir [`temp_db_path`] made for `db`.
    pub fn of(db: &Path) -> Self {
        Self(db.parent().expect("parent").to_owned())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
