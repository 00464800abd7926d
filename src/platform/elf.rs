//! The checks a firmware file must pass before any core is touched: ELF magic, a known class and
//! byte order, an executable type, and at least one loadable segment inside the file.

/// `Err(reason)` says what is wrong with the image, for a message naming the file.
pub fn check(data: &[u8]) -> Result<(), &'static str> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err("not an ELF file");
    }
    if data.len() < 52 {
        return Err("truncated ELF header");
    }
    let wide = match data[4] {
        1 => false,
        2 => true,
        _ => return Err("unknown ELF class"),
    };
    let le = match data[5] {
        1 => true,
        2 => false,
        _ => return Err("unknown ELF byte order"),
    };
    let u16_at = |o: usize| -> u64 {
        let b = [data[o], data[o + 1]];
        u64::from(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |o: usize| -> u64 {
        let b = [data[o], data[o + 1], data[o + 2], data[o + 3]];
        u64::from(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let u64_at = |o: usize| -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[o..o + 8]);
        if le {
            u64::from_le_bytes(b)
        } else {
            u64::from_be_bytes(b)
        }
    };
    if wide && data.len() < 64 {
        return Err("truncated ELF header");
    }
    if u16_at(16) != 2 {
        return Err("not an executable ELF image (e_type is not ET_EXEC)");
    }
    let (phoff, phentsize, phnum) = if wide {
        (u64_at(32), u16_at(54), u16_at(56))
    } else {
        (u32_at(28), u16_at(42), u16_at(44))
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
    if end > data.len() as u64 {
        return Err("truncated program headers");
    }
    for i in 0..phnum {
        let ph = (phoff + i * phentsize) as usize;
        if u32_at(ph) != 1 {
            continue;
        }
        let (offset, filesz) = if wide {
            (u64_at(ph + 8), u64_at(ph + 32))
        } else {
            (u32_at(ph + 4), u32_at(ph + 16))
        };
        let seg_end = offset
            .checked_add(filesz)
            .ok_or("truncated loadable segment")?;
        if seg_end > data.len() as u64 {
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
