//! What IMAGE names, tried in this order: a firmware file (ELF); an OCI image layout directory
//! (`oci:DIR[:NAME]`, or a directory holding `oci-layout` and `index.json`); an archive
//! (`oci-archive:FILE[:NAME]`, `docker-archive:FILE[:NAME]`, or a tar recognised by content);
//! a name in the local image store.

use std::io::Read;
use std::path::Path;

use super::blob::Image;
use super::decompress::{GZIP_MAGIC, ZSTD_MAGIC};
use super::open::{open, Opened};
use super::source::Files;
use crate::cli::Global;
use crate::error::{Error, Result};

pub enum Form {
    Firmware,
    Image {
        image: Image,
        reference: Option<String>,
        /// A docker-archive (`manifest.json`) rather than an OCI layout.
        docker: bool,
    },
}

/// `PATH[:NAME]`: split at the first `:` before which an existing path stands (names such as
/// `hello:1.2` contain colons too).
fn split_name(text: &str) -> (String, Option<String>) {
    if Path::new(text).exists() {
        return (text.to_string(), None);
    }
    for (i, _) in text.match_indices(':') {
        let (path, name) = (&text[..i], &text[i + 1..]);
        if !name.is_empty() && Path::new(path).exists() {
            return (path.to_string(), Some(name.to_string()));
        }
    }
    (text.to_string(), None)
}

fn image(shown: &str, files: Files, reference: Option<String>, docker: bool) -> Form {
    Form::Image {
        image: Image {
            shown: shown.to_string(),
            files,
        },
        reference,
        docker,
    }
}

fn layout(shown: &str, dir: &str, reference: Option<String>) -> Result<Form> {
    let d = Path::new(dir);
    if !d.join("oci-layout").is_file() && !d.join("index.json").is_file() {
        return Err(Error::new(format!(
            "image {shown}: {dir} is not an OCI image layout (no oci-layout or index.json)"
        )));
    }
    Ok(image(shown, Files::Dir(d.to_path_buf()), reference, false))
}

/// An archive; `docker` says which kind it must be (`None`: told by what it holds).
fn archive(
    shown: &str,
    file: &str,
    reference: Option<String>,
    docker: Option<bool>,
) -> Result<Form> {
    let head = head(Path::new(file));
    if head.starts_with(&GZIP_MAGIC) || head.starts_with(&ZSTD_MAGIC) {
        return Err(compressed(shown));
    }
    let files = Files::archive(Path::new(file))?;
    let docker = docker.unwrap_or_else(|| !files.has("oci-layout") && files.has("manifest.json"));
    let oci = files.has("oci-layout") || files.has("index.json");
    if !docker && !oci {
        return Err(Error::new(format!(
            "image {shown}: the archive holds no OCI image layout (no oci-layout or index.json)"
        )));
    }
    if docker && !files.has("manifest.json") {
        return Err(Error::new(format!(
            "image {shown}: the archive is not a docker-archive (no manifest.json)"
        )));
    }
    Ok(image(shown, files, reference, docker))
}

/// An archive file, oci-archive or docker-archive as its content says.
pub fn archive_file(path: &Path) -> Result<Form> {
    let text = path.to_string_lossy();
    archive(&text, &text, None, None)
}

pub fn resolve(g: &Global, path: &Path) -> Result<Form> {
    let text = path.to_string_lossy();
    if let Some(rest) = text.strip_prefix("oci:") {
        let (dir, name) = split_name(rest);
        return layout(&text, &dir, name);
    }
    if let Some(rest) = text.strip_prefix("oci-archive:") {
        let (file, name) = split_name(rest);
        return archive(&text, &file, name, Some(false));
    }
    if let Some(rest) = text.strip_prefix("docker-archive:") {
        let (file, name) = split_name(rest);
        return archive(&text, &file, name, Some(true));
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return layout(&text, &text, None),
        Ok(_) => {
            let head = head(path);
            let header = tar::Header::from_byte_slice(&head);
            if header.as_ustar().is_some() || header.as_gnu().is_some() {
                return archive(&text, &text, None, None);
            }
            if head.starts_with(&GZIP_MAGIC) || head.starts_with(&ZSTD_MAGIC) {
                return Err(compressed(&text));
            }
            // A firmware file; the core checks that it is a usable ELF.
            return Ok(Form::Firmware);
        }
        Err(_) => {}
    }
    let (p, name) = split_name(&text);
    if name.is_some() {
        return match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => layout(&text, &p, name),
            _ => archive(&text, &p, name, None),
        };
    }
    if text.starts_with('/') || text.starts_with("./") || text.starts_with("../") {
        return Err(Error::new(format!("image {text} does not exist")));
    }
    let store = super::store::dir(g);
    if !store.join("index.json").is_file() {
        let s = store.display();
        return Err(Error::new(format!(
            "image {text}: no such file, and the image store {s} is empty (fill it with: \
             skopeo copy … oci:{s}:NAME)"
        )));
    }
    Ok(Form::Image {
        image: Image {
            shown: format!("{text} (store {})", store.display()),
            files: Files::Dir(store),
        },
        reference: Some(text.into_owned()),
        docker: false,
    })
}

/// The first 512 bytes of the regular file at `path` (zeros where it is shorter or not a regular
/// file: a FIFO is never waited on).
/// An archive compressed as a whole (`docker save | gzip`): its layers are what may be.
fn compressed(shown: &str) -> Error {
    Error::new(format!(
        "image {shown} is compressed: decompress the archive first (gunzip, unzstd)"
    ))
}

fn head(path: &Path) -> [u8; 512] {
    let mut head = [0u8; 512];
    if let Ok(Opened::File(f, _)) = open(path, true) {
        let _ = f.take(512).read(&mut head);
    }
    head
}
