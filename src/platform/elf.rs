//! The checks a firmware file must pass before any core is touched: ELF magic, a known class and
//! byte order, an executable type, and at least one loadable segment inside the file.

/// `Err(reason)` says what is wrong with the image, for a message naming the file.
pub fn check(data: &[u8]) -> Result<(), &'static str> {
    check_at(data.len() as u64, &mut |offset, buf| {
        let start = offset as usize;
        match data.get(start..start + buf.len()) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    })
}

/// The same checks on a file of `len` bytes, reading only its headers. `Err` is an error
/// reading the file; `Ok(Err(reason))` says what is wrong with the image.
pub fn check_file(file: &std::fs::File, len: u64) -> std::io::Result<Result<(), &'static str>> {
    use std::os::unix::fs::FileExt;
    let mut failed = None;
    let verdict = check_at(
        len,
        &mut |offset, buf| match file.read_exact_at(buf, offset) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        },
    );
    match failed {
        Some(e) => Err(e),
        None => Ok(verdict),
    }
}

/// The checks on an image of `len` bytes whose parts `read(offset, buf)` fills (false: could not).
fn check_at(len: u64, read: &mut dyn FnMut(u64, &mut [u8]) -> bool) -> Result<(), &'static str> {
    const UNREADABLE: &str = "unreadable";
    let mut head = [0u8; 64];
    if !read(0, &mut head[..len.min(64) as usize]) {
        return Err(UNREADABLE);
    }
    if len < 4 || &head[..4] != b"\x7fELF" {
        return Err("not an ELF file");
    }
    if len < 52 {
        return Err("truncated ELF header");
    }
    let wide = match head[4] {
        1 => false,
        2 => true,
        _ => return Err("unknown ELF class"),
    };
    let le = match head[5] {
        1 => true,
        2 => false,
        _ => return Err("unknown ELF byte order"),
    };
    // The unsigned number of 2, 4 or 8 bytes at `bytes[at..at + size]`.
    let num = |bytes: &[u8], at: usize, size: usize| -> u64 {
        let mut b = [0u8; 8];
        if le {
            b[..size].copy_from_slice(&bytes[at..at + size]);
            u64::from_le_bytes(b)
        } else {
            b[8 - size..].copy_from_slice(&bytes[at..at + size]);
            u64::from_be_bytes(b)
        }
    };
    if wide && len < 64 {
        return Err("truncated ELF header");
    }
    if num(&head, 16, 2) != 2 {
        return Err("not an executable ELF image (e_type is not ET_EXEC)");
    }
    let (phoff, phentsize, phnum) = if wide {
        (num(&head, 32, 8), num(&head, 54, 2), num(&head, 56, 2))
    } else {
        (num(&head, 28, 4), num(&head, 42, 2), num(&head, 44, 2))
    };
    let min_entry = if wide { 56 } else { 32 };
    if phnum == 0 {
        return Err("no program headers");
    }
    if phentsize < min_entry {
        return Err("bad program header size");
    }
    let end = phoff
        .checked_add(phentsize * phnum)
        .ok_or("truncated program headers")?;
    if end > len {
        return Err("truncated program headers");
    }
    let mut ph = [0u8; 56];
    let ph = &mut ph[..min_entry as usize];
    for i in 0..phnum {
        if !read(phoff + i * phentsize, ph) {
            return Err(UNREADABLE);
        }
        if num(ph, 0, 4) != 1 {
            continue;
        }
        let (offset, filesz) = if wide {
            (num(ph, 8, 8), num(ph, 32, 8))
        } else {
            (num(ph, 4, 4), num(ph, 16, 4))
        };
        let seg_end = offset
            .checked_add(filesz)
            .ok_or("truncated loadable segment")?;
        if seg_end > len {
            return Err("truncated loadable segment");
        }
        return Ok(());
    }
    Err("no loadable segment")
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn rejects_what_the_kernel_rejects() {
        assert_eq!(check(b"hello world"), Err("not an ELF file"));
        assert_eq!(check(b"\x7fELF\x01\x01"), Err("truncated ELF header"));
        assert!(check(&hybrid_sim::firmware::Firmware::new().bytes()).is_ok());
        assert!(check(&hybrid_sim::firmware::not_elf()).is_err());
        assert!(check(&hybrid_sim::firmware::truncated_elf()).is_err());
        assert_eq!(
            check(&hybrid_sim::firmware::elf_without_load_segment()),
            Err("no loadable segment")
        );
    }
}
