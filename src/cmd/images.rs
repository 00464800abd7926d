//! `images`: list the local image store (name, digest, size, target board and core).

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::error::{cat, Result};
use crate::image::store;

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime images [--format <format>]

List the images in the local image store (an OCI image layout; see `create <IMAGE>`).

Options:
  --format          output format: table (default) or json
  --help, help      display usage information
"#,
    opts: &[Opt::new("", "--format", Takes::Text)],
    positionals: &[],
    required: 0,
};

struct Args {
    format: String,
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let a = Args {
        format: p.value(0).unwrap_or_else(|| String::from("table")),
    };
    let (dir, images) = store::list(g)?;
    let mut out = String::new();
    match a.format.as_str() {
        "json" => {
            let quote = crate::json::write::quote;
            out.push('[');
            for (n, i) in images.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&cat(&[
                    "{\"name\":",
                    &quote(&i.name),
                    ",\"digest\":",
                    &quote(&i.digest),
                    ",\"size\":",
                    &i.size.to_string(),
                    ",\"board\":",
                    &quote(&i.board),
                    ",\"core\":",
                    &quote(&i.core),
                    "}",
                ]));
            }
            out.push_str("]\n");
        }
        "table" => {
            if images.is_empty() {
                eprintln!("no images in {}", dir.to_string_lossy());
            }
            let width = images
                .iter()
                .map(|i| i.name.len())
                .max()
                .unwrap_or(4)
                .max(4);
            let row = |out: &mut String, cols: [&str; 5]| {
                out.push_str(cols[0]);
                for _ in cols[0].len()..width + 2 {
                    out.push(' ');
                }
                for (c, w) in cols[1..].iter().zip([21, 8, 16, 0]) {
                    out.push_str(c);
                    for _ in c.len()..w {
                        out.push(' ');
                    }
                }
                out.push('\n');
            };
            row(&mut out, ["NAME", "DIGEST", "SIZE", "BOARD", "CORE"]);
            for i in &images {
                let short = cat(&[&i.digest[..i.digest.len().min(19)], " "]);
                let none = |s: &str| {
                    if s.is_empty() {
                        String::from("-")
                    } else {
                        s.to_string()
                    }
                };
                row(
                    &mut out,
                    [
                        &i.name,
                        &short,
                        &store::human(i.size),
                        &none(&i.board),
                        &none(&i.core),
                    ],
                );
            }
        }
        other => {
            return Err(crate::error::Error::usage(cat(&[
                "unknown --format ",
                other,
                " (use table or json)",
            ])))
        }
    }
    print!("{out}");
    Ok(0)
}
