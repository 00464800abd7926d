//! `images`: list the local image store (name, digest, size, target board and core).

use argh::FromArgs;

use crate::cli::{self, Global};
use crate::cmd::format::{print_compact, Format};
use crate::error::Result;
use crate::image::store;

/// List the images in the local image store (an OCI image layout; see `create <IMAGE>`).
#[derive(FromArgs)]
#[argh(help_triggers("-h", "--help"))]
struct Args {
    /// output format: table (default) or json
    #[argh(option)]
    format: Option<String>,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(args) = cli::parse::<Args>("images", args)? else {
        return Ok(0);
    };
    let format = Format::parse(args.format.as_deref(), "--format")?;
    let (dir, images) = store::list(g)?;
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = images
                .iter()
                .map(|i| {
                    serde_json::json!({
                        "name": i.name,
                        "digest": i.digest,
                        "size": i.size,
                        "board": i.board,
                        "core": i.core,
                    })
                })
                .collect();
            print_compact(&rows)?;
        }
        Format::Table => {
            if images.is_empty() {
                eprintln!("no images in {}", dir.display());
            }
            let width = images
                .iter()
                .map(|i| i.name.len())
                .max()
                .unwrap_or(0)
                .max(4);
            let dash = |s: &str| {
                if s.is_empty() {
                    String::from("-")
                } else {
                    s.to_string()
                }
            };
            let mut out = format!(
                "{:<width$}  {:<21}{:<8}{:<16}CORE\n",
                "NAME", "DIGEST", "SIZE", "BOARD"
            );
            for i in &images {
                // `sha256:` and the first 12 hex digits, as engines show image ids.
                let short: String = i.digest.chars().take(19).collect();
                out.push_str(&format!(
                    "{:<width$}  {:<21}{:<8}{:<16}{}\n",
                    i.name,
                    format!("{short} "),
                    store::human(i.size),
                    dash(&i.board),
                    dash(&i.core)
                ));
            }
            print!("{out}");
        }
    }
    Ok(0)
}
