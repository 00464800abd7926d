//! The behaviour-script language firmware built with `hybrid_sim::firmware`
//! carries in its `.hybrid_sim` section, parsed into commands.

/// One script command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    Trace(String),
    Tty(String),
    Ept(String),
    Sleep(u64),
    Repeat(u32, Vec<Cmd>),
    /// Crash with the kernel's name of the type.
    Crash(&'static str),
    Halt,
    WaitRx,
    Echo,
}

/// A parsed script: the channels to announce (empty: the defaults), each with
/// the address given or none, and the commands, or the first line that could
/// not be understood.
#[derive(Debug, Default)]
pub struct Script {
    pub announce: Vec<(String, Option<u32>)>,
    pub cmds: Vec<Cmd>,
}

/// `30` or `0x400`.
fn parse_addr(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parses `text`; errors name the line.
pub fn parse(text: &str) -> Result<Script, String> {
    let mut script = Script::default();
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    while let Some(&(no, l)) = lines.peek() {
        let Some(rest) = l.strip_prefix("announce ") else {
            break;
        };
        let mut words = rest.split_whitespace();
        let (Some(name), addr, None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("line {no}: `announce` takes a name and an address"));
        };
        let addr = match addr {
            Some(a) => Some(parse_addr(a).ok_or_else(|| {
                format!("line {no}: `{a}` is not an address (decimal or 0x hex)")
            })?),
            None => None,
        };
        script.announce.push((name.to_string(), addr));
        lines.next();
    }
    let mut stack: Vec<(u32, Vec<Cmd>)> = vec![(1, Vec::new())];
    for (no, line) in lines {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let cmd = match word {
            "trace" => Cmd::Trace(rest.to_string()),
            "tty" => Cmd::Tty(rest.to_string()),
            "ept" => Cmd::Ept(rest.to_string()),
            "sleep" => Cmd::Sleep(
                rest.trim()
                    .parse()
                    .map_err(|_| format!("line {no}: `sleep` needs milliseconds"))?,
            ),
            "crash" => Cmd::Crash(crate::rproc::crash_name(rest.trim()).ok_or_else(|| {
                format!("line {no}: crash type must be mmu-fault, watchdog or fatal-error")
            })?),
            "halt" => Cmd::Halt,
            "wait-rx" => Cmd::WaitRx,
            "echo" => Cmd::Echo,
            "repeat" => {
                let n = rest
                    .trim()
                    .parse()
                    .map_err(|_| format!("line {no}: `repeat` needs a count"))?;
                stack.push((n, Vec::new()));
                continue;
            }
            "end" => {
                let (n, body) = stack
                    .pop()
                    .filter(|_| !stack.is_empty())
                    .ok_or_else(|| format!("line {no}: `end` without `repeat`"))?;
                Cmd::Repeat(n, body)
            }
            "announce" => return Err(format!("line {no}: `announce` only on the first lines")),
            _ => return Err(format!("line {no}: unknown command `{word}`")),
        };
        if let Some(top) = stack.last_mut() {
            top.1.push(cmd);
        }
    }
    if stack.len() != 1 {
        return Err("`repeat` without `end`".into());
    }
    script.cmds = stack.pop().map(|(_, c)| c).unwrap_or_default();
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let s = parse(
            "announce rpmsg-tty\nannounce my-log 0x401\n# comment\n\ntrace a\nrepeat 2\ntty {n}\nrepeat 2\nept x\nend\nend\n\
             sleep 5\nwait-rx\necho\ncrash watchdog\nhalt\n",
        )
        .unwrap();
        assert_eq!(
            s.announce,
            [("rpmsg-tty".into(), None), ("my-log".into(), Some(0x401))]
        );
        assert_eq!(
            s.cmds,
            [
                Cmd::Trace("a".into()),
                Cmd::Repeat(
                    2,
                    vec![
                        Cmd::Tty("{n}".into()),
                        Cmd::Repeat(2, vec![Cmd::Ept("x".into())])
                    ]
                ),
                Cmd::Sleep(5),
                Cmd::WaitRx,
                Cmd::Echo,
                Cmd::Crash("watchdog"),
                Cmd::Halt,
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert!(parse("jump\n").unwrap_err().contains("line 1"));
        assert!(parse("trace a\nsleep x\n").unwrap_err().contains("line 2"));
        assert!(parse("end\n").is_err());
        assert!(parse("repeat 2\ntrace a\n").is_err());
        assert!(parse("crash boom\n").is_err());
        assert!(parse("trace a\nannounce x\n").is_err());
        assert!(parse("announce x zz\n").unwrap_err().contains("line 1"));
        assert!(parse("announce x 1 2\n").is_err());
    }
}
