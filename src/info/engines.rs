//! Container engines on this host: whether containerd (and k3s's template of it), Docker and
//! Podman have a runtime named `hybrid`, and whether it points at this binary. The TOML files
//! are searched for the runtime's table and its binary's path, not interpreted as a whole.

use std::path::{Path, PathBuf};

use crate::host::Host;

use super::Check;

/// Where this engine keeps its configuration, and where its binary would be.
struct Engine {
    name: &'static str,
    config_dir: &'static str,
    binary: &'static str,
    example: &'static str,
}

const CONTAINERD: Engine = Engine {
    name: "containerd",
    config_dir: "/etc/containerd",
    binary: "/usr/bin/containerd",
    example: "merge contrib/engines/containerd/config.toml into /etc/containerd/config.toml",
};
const K3S: Engine = Engine {
    name: "k3s",
    config_dir: "/var/lib/rancher/k3s/agent/etc/containerd",
    binary: "/usr/local/bin/k3s",
    example: "save contrib/engines/k3s/config.toml.tmpl as \
              /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl and restart k3s",
};
const DOCKER: Engine = Engine {
    name: "docker",
    config_dir: "/etc/docker",
    binary: "/usr/bin/dockerd",
    example: "add contrib/engines/docker/daemon.json's runtimes to /etc/docker/daemon.json \
              and restart dockerd",
};
const PODMAN: Engine = Engine {
    name: "podman",
    config_dir: "/etc/containers",
    binary: "/usr/bin/podman",
    example: "save contrib/engines/podman/containers.conf as \
              /etc/containers/containers.conf.d/hybrid-runtime.conf",
};

pub fn checks(host: &Host) -> Vec<Check> {
    let toml_files = |dir: &str, names: &[&str], drop_in: &str, ext: &str| {
        let mut files: Vec<PathBuf> = names.iter().map(|n| host.path(dir).join(n)).collect();
        files.extend(files_in(&host.path(dir).join(drop_in), ext));
        files
    };
    vec![
        engine(host, &CONTAINERD, || {
            let files = toml_files(CONTAINERD.config_dir, &["config.toml"], "conf.d", "toml");
            find_in_toml(&files, "runtimes.hybrid]", "BinaryName")
        }),
        engine(host, &K3S, || {
            let files = toml_files(K3S.config_dir, &["config.toml.tmpl"], "", "-");
            find_in_toml(&files, "runtimes.hybrid]", "BinaryName")
        }),
        engine(host, &DOCKER, || docker(host)),
        engine(host, &PODMAN, || {
            let mut files = toml_files(
                PODMAN.config_dir,
                &["containers.conf"],
                "containers.conf.d",
                "conf",
            );
            files.push(host.path("/usr/share/containers/containers.conf"));
            find_in_toml(&files, "[engine.runtimes]", "hybrid")
        }),
    ]
}

/// Where the runtime named hybrid was found: the file, and the binary path it gives.
struct Found {
    file: PathBuf,
    binary: Option<String>,
}

fn engine(host: &Host, e: &Engine, find: impl FnOnce() -> Option<Found>) -> Check {
    let installed = host.path(e.config_dir).is_dir() || host.path(e.binary).exists();
    if !installed {
        return Check::skip(e.name, "not installed here");
    }
    let Some(found) = find() else {
        return Check::warn(e.name, "no runtime named hybrid is configured", e.example);
    };
    let file = found.file.display();
    let Some(binary) = found.binary else {
        return Check::warn(
            e.name,
            format!("{file} names a runtime hybrid but not its binary"),
            e.example,
        );
    };
    match is_this_binary(&binary) {
        Ok(true) => Check::ok(e.name, format!("runtime hybrid → {binary} ({file})")),
        Ok(false) => Check::warn(
            e.name,
            format!("runtime hybrid in {file} runs {binary}, not this binary"),
            format!("point it at {}", this_binary().display()),
        ),
        Err(why) => Check::warn(
            e.name,
            format!("runtime hybrid in {file} runs {binary}: {why}"),
            format!("point it at {}", this_binary().display()),
        ),
    }
}

fn this_binary() -> PathBuf {
    std::env::current_exe().unwrap_or_default()
}

fn is_this_binary(path: &str) -> Result<bool, String> {
    let given = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
    let me = std::fs::canonicalize(this_binary()).map_err(|e| e.to_string())?;
    Ok(given == me)
}

/// The files of `dir` ending in `.ext`, sorted.
fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// The first file holding a line with `table`, and the first quoted string of a line after it
/// that starts with `key` (before the next table). A table that does not itself name the
/// runtime (Podman's `[engine.runtimes]`) counts only with that line.
fn find_in_toml(files: &[PathBuf], table: &str, key: &str) -> Option<Found> {
    let table_names_runtime = table.contains("hybrid");
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let mut lines = text.lines().map(str::trim);
        if !lines.any(|l| !l.starts_with('#') && l.contains(table)) {
            continue;
        }
        let binary = lines
            .take_while(|l| !l.starts_with('[') || l.contains("runtimes.hybrid"))
            .find(|l| l.starts_with(key) && l.contains('='))
            .and_then(first_quoted);
        if binary.is_none() && !table_names_runtime {
            continue;
        }
        return Some(Found {
            file: file.clone(),
            binary,
        });
    }
    None
}

fn first_quoted(line: &str) -> Option<String> {
    let rest = &line[line.find('"')? + 1..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Docker's `daemon.json`: `runtimes.hybrid.path`.
fn docker(host: &Host) -> Option<Found> {
    let file = host.path("/etc/docker/daemon.json");
    let data = std::fs::read(&file).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&data).ok()?;
    let runtime = doc.get("runtimes")?.get("hybrid")?;
    Some(Found {
        binary: runtime
            .get("path")
            .and_then(|p| p.as_str())
            .map(String::from),
        file,
    })
}
