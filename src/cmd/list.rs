//! `list [--format table|json]`: every container under the state root.

use crate::cli::{parse, Global, Opt, Spec, Takes};
use crate::cmd::format::{print_json_list, Format};
use crate::cmd::state;
use crate::container::{Container, STATE_FILE};
use crate::error::{cat, Result};

const SPEC: Spec = Spec {
    help: r#"Usage: hybrid-runtime list [-f <format>] [-q]

List containers.

Options:
  -f, --format      table (default) or json
  -q, --quiet       print only the ids
  --help, help      display usage information
"#,
    opts: &[
        Opt::new("-f", "--format", Takes::Text),
        Opt::new("-q", "--quiet", Takes::Nothing),
    ],
    positionals: &[],
    required: 0,
};

fn pad(s: &str, width: usize) -> String {
    let mut out = String::from(s);
    for _ in s.chars().count()..width {
        out.push(' ');
    }
    out.push_str("  ");
    out
}

pub fn run(g: &Global, args: &[String]) -> Result<i32> {
    let Some(mut p) = parse(&SPEC, args)? else {
        return Ok(0);
    };
    let format = p.value(0);
    let quiet = p.switch(1);
    let mut ids: Vec<String> = match std::fs::read_dir(&g.root) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(STATE_FILE).is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    crate::sort::sort_by(&mut ids, |a, b| a < b);
    let states: Vec<state::State> = ids
        .iter()
        .filter_map(|id| Container::load(&g.root, id).ok())
        .map(|c| state::of(g, &c))
        .collect();
    match Format::parse(format.as_deref(), "format")? {
        Format::Json => print_json_list(&states, |w, s| s.write(w)),
        Format::Table if quiet => {
            for s in &states {
                println!("{}", s.id);
            }
        }
        Format::Table => {
            let mut out = cat(&[
                &pad("ID", 20),
                &pad("PID", 8),
                &pad("STATUS", 8),
                &pad("CORE", 24),
                "CREATED\n",
            ]);
            for s in &states {
                let get = |k: &str| s.annotations.get(k).map(String::as_str).unwrap_or("");
                let core = cat(&[
                    get("io.hybrid-runtime.core"),
                    " (",
                    get("io.hybrid-runtime.core-name"),
                    ")",
                ]);
                out.push_str(&cat(&[
                    &pad(&s.id, 20),
                    &pad(&s.pid.to_string(), 8),
                    &pad(s.status, 8),
                    &pad(&core, 24),
                    &s.created,
                    "\n",
                ]));
            }
            print!("{out}");
        }
    }
    Ok(0)
}
