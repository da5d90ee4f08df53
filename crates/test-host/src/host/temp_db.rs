//! Test databases: each a file in a directory of its own, removed when its last owner
//! (the test, or the [`Host`](super::Host) it was given to) lets go of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A test database: a file in a directory of its own under `<target>/tmp/pokefavs-test-dbs`,
/// removed with everything beside it (WAL, SHM, a test's other files) when the last
/// owner lets go of it: the test, or the [`Host`](super::Host) it was given to. A failing test's
/// directory is kept, and its path printed, when `POKEFAVS_KEEP_DB=1`.
#[derive(Clone)]
pub struct TempDb(Arc<TempDbFile>);

struct TempDbFile {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Drop for TempDbFile {
    fn drop(&mut self) {
        let keep = std::env::var_os("POKEFAVS_KEEP_DB").is_some_and(|v| v == "1");
        if keep && std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
                eprintln!("test database kept: {}", self.path.display());
            }
        }
    }
}

impl std::fmt::Debug for TempDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TempDb({})", self.0.path.display())
    }
}

impl std::ops::Deref for TempDb {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0.path
    }
}

impl AsRef<Path> for TempDb {
    fn as_ref(&self) -> &Path {
        &self.0.path
    }
}

/// A fresh test database named after `tag` (see [`TempDb`]).
pub fn temp_db(tag: &str) -> TempDb {
    let root = crate::target_dir().join("tmp/pokefavs-test-dbs");
    std::fs::create_dir_all(&root)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
    let dir = tempfile::Builder::new()
        .prefix(&format!("{tag}-"))
        .tempdir_in(&root)
        .unwrap_or_else(|e| panic!("cannot create a test directory in {}: {e}", root.display()));
    let path = dir.path().join(format!("{tag}.db"));
    TempDb(Arc::new(TempDbFile {
        dir: Some(dir),
        path,
    }))
}

/// Where a database file is, and the [`TempDb`] to keep alive with the host, if any.
pub struct DbFile {
    pub(super) path: PathBuf,
    pub(super) owner: Option<TempDb>,
}

impl From<TempDb> for DbFile {
    fn from(db: TempDb) -> Self {
        DbFile {
            path: db.to_path_buf(),
            owner: Some(db),
        }
    }
}

impl From<&TempDb> for DbFile {
    fn from(db: &TempDb) -> Self {
        db.clone().into()
    }
}

impl From<PathBuf> for DbFile {
    fn from(path: PathBuf) -> Self {
        DbFile { path, owner: None }
    }
}

impl From<&PathBuf> for DbFile {
    fn from(path: &PathBuf) -> Self {
        path.clone().into()
    }
}

impl From<&Path> for DbFile {
    fn from(path: &Path) -> Self {
        path.to_path_buf().into()
    }
}
