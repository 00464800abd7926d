//! The remoteproc trace buffer (debugfs `trace0`): a ring the firmware writes with no read
//! pointer and no notification. Each read returns the whole ring (up to its first NUL), so
//! successive snapshots are compared to recover only what was written since the last one.
//!
//! Until the ring first wraps, new output simply extends the previous snapshot. After that the
//! writer's position is tracked: new bytes are those that changed, starting where the last
//! update ended. When a line ends exactly where an older line ended, the bytes after the last
//! change (up to the newline) look unchanged; they are taken one poll later if nothing else
//! changed, so a line is never cut when the writer was caught in the middle of it. When the
//! whole ring changed between two reads (all but a piece of one old line), the writer lapped
//! the reader: lines were lost, the order of the ring's content is unknown, so nothing is taken
//! from it, and the writer is found again from the next change (its first changed line on).
//! A snapshot shorter than the previous one means the firmware restarted with a fresh buffer.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use heapless::HistoryBuf;

/// Largest trace buffer read (the kernel allows any size; firmware uses a few KiB).
pub const MAX_TRACE: usize = 1 << 20;

/// What one snapshot revealed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Update {
    /// Nothing new.
    Unchanged,
    /// New bytes were appended to the output.
    New,
    /// The writer lapped the reader: output before the appended bytes was lost.
    Lost,
    /// The buffer started over (firmware restarted); the appended bytes are its content.
    Restarted,
}

#[derive(Default)]
pub struct TraceFollower {
    prev: Vec<u8>,
    /// Ring size, known once the ring has wrapped.
    cap: Option<usize>,
    /// Where the writer will write next, as far as the reader knows.
    pos: usize,
    /// Bytes after `pos` up to a newline that did not change but are probably new.
    pending: usize,
    /// The writer lapped the reader, so `pos` is unknown: find it from the next change.
    resync: bool,
}

impl TraceFollower {
    /// Compare `snap` (the whole buffer just read) with the previous one and append to `out`
    /// whatever was written since, oldest first.
    pub fn update(&mut self, snap: &[u8], out: &mut Vec<u8>) -> Update {
        let snap = &snap[..snap.iter().position(|&b| b == 0).unwrap_or(snap.len())];
        let result = match self.cap {
            _ if snap.len() < self.prev.len() => self.restart(snap, out),
            None if snap.starts_with(&self.prev) => {
                out.extend_from_slice(&snap[self.prev.len()..]);
                self.pos = snap.len();
                if snap.len() > self.prev.len() {
                    Update::New
                } else {
                    Update::Unchanged
                }
            }
            Some(cap) if snap.len() > cap => self.restart(snap, out),
            _ => self.wrapped(snap, out),
        };
        self.prev.clear();
        self.prev.extend_from_slice(snap);
        result
    }

    fn restart(&mut self, snap: &[u8], out: &mut Vec<u8>) -> Update {
        *self = TraceFollower::default();
        out.extend_from_slice(snap);
        self.pos = snap.len();
        Update::Restarted
    }

    /// The ring has wrapped (now or before): walk it from the writer's last known position.
    fn wrapped(&mut self, snap: &[u8], out: &mut Vec<u8>) -> Update {
        let cap = snap.len();
        self.cap = Some(cap);
        if cap == 0 {
            return Update::Unchanged;
        }
        let old = |i: usize| self.prev.get(i).copied().unwrap_or(0);
        let at = |off: usize| (self.pos + off) % cap;
        let last_change = (0..cap).rev().find(|&off| snap[at(off)] != old(at(off)));
        let Some(last) = last_change else {
            // Nothing changed: the bytes held back last time were not the writer's.
            if self.pending == 0 {
                return Update::Unchanged;
            }
            for off in 0..self.pending {
                out.push(snap[at(off)]);
            }
            self.pos = at(self.pending);
            self.pending = 0;
            return Update::New;
        };
        // What did not change after the last change is old output we read before. Unless it
        // holds the end of an old line (or never-written bytes), the writer went all the way
        // round: what matched there is coincidence (such as a newline written over a newline).
        let old_line_left = (last + 1..cap - 1).any(|off| matches!(old(at(off)), b'\n' | 0));
        if !old_line_left {
            // Everything changed: the order of what is in the ring cannot be known.
            self.pos = 0;
            self.pending = 0;
            self.resync = true;
            return Update::Lost;
        }
        let mut first = 0;
        if self.resync {
            // The writer's last run starts at the line holding the first change.
            first = (0..=last)
                .find(|&off| snap[at(off)] != old(at(off)))
                .unwrap_or(0);
            while first > 0 && snap[at(first - 1)] != b'\n' {
                first -= 1;
            }
            self.resync = false;
        }
        for off in first..=last {
            out.push(snap[at(off)]);
        }
        self.pending = (last..cap)
            .find(|&off| snap[at(off)] == b'\n')
            .map_or(0, |nl| nl - last);
        self.pos = at(last + 1);
        Update::New
    }
}

/// The last `N` lines (empty ones skipped) of a snapshot, up to its first NUL, oldest first
/// through `oldest_ordered`: what is shown of the buffer when the firmware crashes.
pub fn last_lines<const N: usize>(snap: &[u8]) -> HistoryBuf<&[u8], N> {
    let text = &snap[..snap.iter().position(|&b| b == 0).unwrap_or(snap.len())];
    let mut tail = HistoryBuf::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        tail.write(line);
    }
    tail
}

/// Read the whole trace buffer at `path` into `buf` (replacing its content).
pub fn read_snapshot(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    read_all(&File::open(path)?, buf)
}

/// The trace buffer kept open between reads (each read starts at offset 0), reopened when a
/// read fails: the kernel removes the file when the core stops and makes a new one at boot.
#[derive(Default)]
pub struct TraceFile {
    file: Option<File>,
}

impl TraceFile {
    pub fn read(&mut self, path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
        let file = match self.file.take() {
            Some(f) => f,
            None => File::open(path)?,
        };
        read_all(&file, buf)?;
        self.file = Some(file);
        Ok(())
    }
}

fn read_all(file: &File, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    while buf.len() < MAX_TRACE {
        let n = file.read_at(&mut chunk, buf.len() as u64)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A firmware-side ring writer (Zephyr/OpenAMP style: cyclic, never writes a NUL).
    struct Ring {
        buf: Vec<u8>,
        pos: usize,
    }

    impl Ring {
        fn new(len: usize) -> Ring {
            Ring {
                buf: vec![0; len],
                pos: 0,
            }
        }
        fn write(&mut self, s: &str) {
            for &b in s.as_bytes() {
                self.buf[self.pos] = b;
                self.pos = (self.pos + 1) % self.buf.len();
            }
        }
    }

    /// A repeatable pseudo-random source: `rand(n)` is below `n`.
    fn random(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        }
    }

    fn poll(f: &mut TraceFollower, r: &Ring) -> (Update, String) {
        let mut out = Vec::new();
        let u = f.update(&r.buf, &mut out);
        (u, String::from_utf8(out).unwrap())
    }

    /// Poll after every `step` lines and once more at the end; return all output.
    fn run(len: usize, lines: usize, step: usize) -> (String, Vec<Update>) {
        let mut r = Ring::new(len);
        let mut f = TraceFollower::default();
        let (mut all, mut updates) = (String::new(), Vec::new());
        for i in 1..=lines {
            r.write(&format!("line {i}\n"));
            if i % step == 0 {
                let (u, s) = poll(&mut f, &r);
                updates.push(u);
                all.push_str(&s);
            }
        }
        for _ in 0..2 {
            let (u, s) = poll(&mut f, &r);
            updates.push(u);
            all.push_str(&s);
        }
        (all, updates)
    }

    fn expected(from: usize, to: usize) -> String {
        (from..=to).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn growth_before_the_first_wrap() {
        let (all, updates) = run(4096, 30, 7);
        assert_eq!(all, expected(1, 30));
        assert!(!updates.contains(&Update::Lost));
    }

    #[test]
    fn every_line_once_across_many_wraps_in_bursts() {
        for (len, step) in [(64, 1), (64, 3), (100, 5), (257, 20), (4000, 300)] {
            let (all, updates) = run(len, 2000, step);
            assert_eq!(all, expected(1, 2000), "len {len} step {step}");
            assert!(!updates.contains(&Update::Lost), "len {len} step {step}");
        }
    }

    #[test]
    fn lines_of_any_length_read_at_any_pace_within_the_ring_come_out_exactly() {
        let mut rand = random(0x2545_f491_u64);
        for round in 0..50 {
            let cap = 128 + rand(400) as usize;
            let mut r = Ring::new(cap);
            let mut f = TraceFollower::default();
            let (mut want, mut got, mut since) = (String::new(), String::new(), 0);
            for i in 0..600 {
                let line = format!("{i} {}\n", "x".repeat(rand(30) as usize));
                // Read before the writer could come round to what was not read yet.
                if since + line.len() >= cap - 40 || rand(4) == 0 {
                    let (u, s) = poll(&mut f, &r);
                    assert_ne!(u, Update::Lost, "round {round}");
                    got.push_str(&s);
                    since = 0;
                }
                r.write(&line);
                want.push_str(&line);
                since += line.len();
            }
            for _ in 0..2 {
                got.push_str(&poll(&mut f, &r).1);
            }
            assert_eq!(got, want, "round {round}, ring {cap}");
        }
    }

    #[test]
    fn same_length_lines_landing_on_old_newlines_are_released_one_poll_later() {
        let mut r = Ring::new(16);
        let mut f = TraceFollower::default();
        r.write("aaaaaaa\nbbbbbbb\n");
        assert_eq!(poll(&mut f, &r).1, "aaaaaaa\nbbbbbbb\n");
        r.write("ccccccc\n");
        let (u, s) = poll(&mut f, &r);
        assert_eq!((u, s.as_str()), (Update::New, "ccccccc"));
        assert_eq!(poll(&mut f, &r).1, "\n");
        assert_eq!(poll(&mut f, &r), (Update::Unchanged, String::new()));
    }

    #[test]
    fn a_line_caught_half_written_is_completed_not_garbled() {
        let mut r = Ring::new(16);
        let mut f = TraceFollower::default();
        r.write("aaaaaaa\nbbbbbbb\n");
        poll(&mut f, &r);
        r.write("cc");
        assert_eq!(poll(&mut f, &r).1, "cc");
        r.write("ccccc\nd\n");
        assert_eq!(poll(&mut f, &r).1, "ccccc\nd\n");
    }

    #[test]
    fn a_lap_between_reads_is_reported() {
        let mut r = Ring::new(64);
        let mut f = TraceFollower::default();
        r.write("first\n");
        poll(&mut f, &r);
        for i in 0..40 {
            r.write(&format!("burst {i}\n"));
        }
        assert_eq!(poll(&mut f, &r), (Update::Lost, String::new()));
        r.write("after 1\n");
        r.write("after 2\n");
        let (u, mut s) = poll(&mut f, &r);
        assert_eq!(u, Update::New);
        s.push_str(&poll(&mut f, &r).1);
        assert_eq!(s, "after 1\nafter 2\n");
    }

    #[test]
    fn a_lap_is_seen_even_where_new_bytes_happen_to_match_old_ones() {
        for n in 16..64 {
            let mut r = Ring::new(64);
            let mut f = TraceFollower::default();
            r.write("first\n");
            poll(&mut f, &r);
            for i in 0..n {
                r.write(&format!("b{:02}\n", i % 100));
            }
            assert_eq!(poll(&mut f, &r).0, Update::Lost, "{n} lines");
        }
    }

    #[test]
    fn any_sequence_of_snapshots_is_taken_without_failing() {
        let mut rand = random(7_u64);
        let mut f = TraceFollower::default();
        let mut snap = Vec::new();
        for _ in 0..20_000 {
            match rand(4) {
                0 => snap.truncate(rand(snap.len() as u64 + 1) as usize),
                1 => snap.resize(rand(300) as usize, b'a' + rand(3) as u8),
                _ => {
                    if !snap.is_empty() {
                        let i = rand(snap.len() as u64) as usize;
                        snap[i] = [b'\n', 0, b'z', b'a'][rand(4) as usize];
                    }
                }
            }
            let mut out = Vec::new();
            f.update(&snap, &mut out);
            assert!(out.len() <= snap.len());
        }
    }

    #[test]
    fn the_crash_tail_is_the_last_lines_in_order() {
        let snap: String = (1..=25).map(|i| format!("line {i}\n\n")).collect();
        let mut snap = snap.into_bytes();
        snap.extend_from_slice(b"partial\0stale\n");
        let tail = last_lines::<20>(&snap);
        let got: Vec<&[u8]> = tail.oldest_ordered().copied().collect();
        let mut want: Vec<String> = (7..=25).map(|i| format!("line {i}")).collect();
        want.push(String::from("partial"));
        assert_eq!(got, want.iter().map(|l| l.as_bytes()).collect::<Vec<_>>());
        let few = last_lines::<20>(b"one\ntwo\n");
        assert_eq!(
            few.oldest_ordered().copied().collect::<Vec<_>>(),
            [b"one", b"two"]
        );
        assert!(last_lines::<20>(b"\n\n\0x").is_empty());
    }

    #[test]
    fn a_shorter_buffer_is_a_restart() {
        let mut f = TraceFollower::default();
        let mut out = Vec::new();
        f.update(b"one\ntwo\nthree\n", &mut out);
        out.clear();
        assert_eq!(f.update(b"boot\n\0\0\0", &mut out), Update::Restarted);
        assert_eq!(out, b"boot\n");
        out.clear();
        assert_eq!(f.update(b"boot\nmore\n", &mut out), Update::New);
        assert_eq!(out, b"more\n");
    }
}
