//! A container's directory `<root>/<id>/` (mode 0700): made by `create` (the state root made if
//! needed and checked: others must not be able to swap directories in it), removed whole by
//! `delete` or by a create that failed.

use std::fs::File;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use crate::host::Host;

use super::{dir_of, lock, trust};

/// Refuse an id whose directory would be the host's core claims (`cores` in the default root).
pub fn check_reserved(host: &Host, root: &Path, id: &str) -> Result<()> {
    let dir = dir_of(root, id);
    if dir == host.claims() {
        return Err(Error::new(format!(
            "container id {id} is reserved in this state root: the core claims live in {}",
            dir.display()
        )));
    }
    Ok(())
}

/// Create `<root>/<id>/` and take its lock, held until the container is complete (a concurrent
/// `delete` waits for it); an error if it exists (another container has that id).
pub fn create(root: &Path, id: &str) -> Result<(NewDir, File)> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .ctx_path("creating state root", root)?;
    trust::check_dir(root)?;
    let dir = dir_of(root, id);
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {
            let dir = NewDir::new(dir);
            let lock = lock(&dir.path)?;
            Ok((dir, lock))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Error::new(format!("container {id} already exists")))
        }
        Err(e) => Err(Error::io(&e, format!("creating {}", dir.display()))),
    }
}

/// A directory made by `create`, removed when dropped unless kept: nothing is left of a create
/// that fails.
pub struct NewDir {
    pub path: PathBuf,
    kept: bool,
}

impl NewDir {
    pub fn new(path: PathBuf) -> NewDir {
        NewDir { path, kept: false }
    }

    /// The container was created: its directory stays (`delete` removes it).
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for NewDir {
    fn drop(&mut self) {
        if !self.kept {
            let _ = remove(&self.path);
        }
    }
}

/// Remove a container's directory. It is first renamed out of the id's path (to a name no id can
/// have), so that a command racing this one finds no container at all rather than a directory
/// half emptied, and cannot add a file to it. Already gone is not an error.
pub fn remove(dir: &Path) -> Result<()> {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!("~removing.{}", std::process::id()));
    let doomed = dir.with_file_name(name);
    match std::fs::rename(dir, &doomed) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&e, format!("removing {}", dir.display()))),
    }
    // A command that looked the path up just before the rename may still add its file: once.
    std::fs::remove_dir_all(&doomed)
        .or_else(|_| std::fs::remove_dir_all(&doomed))
        .ctx_path("removing", &doomed)
}

#[cfg(test)]
mod tests {
    use super::remove;

    #[test]
    fn removal_leaves_nothing_and_tolerates_a_directory_already_gone() {
        let root = std::env::temp_dir().join(format!("hybrid-statedir-{}", std::process::id()));
        let dir = root.join("c1");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("state.json"), "{}").unwrap();
        remove(&dir).unwrap();
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        remove(&dir).unwrap();
        std::fs::remove_dir(&root).unwrap();
    }
}
