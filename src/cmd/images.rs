//! `images`: list the local image store (name, digest, size, target board and core).

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::cmd::format::{print_json_list, Format};
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

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let format = p.value(0);
    let (dir, images) = store::list(g)?;
    match Format::parse(format.as_deref(), "--format")? {
        Format::Json => print_json_list(&images, |w, i| {
            w.object().key("name").string(&i.name);
            w.key("digest").string(&i.digest);
            w.key("size").raw(&i.size.to_string());
            w.key("board").string(&i.board);
            w.key("core").string(&i.core).end_object();
        }),
        Format::Table => {
            let mut out = String::new();
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
            print!("{out}");
        }
    }
    Ok(0)
}
