//! Reads a firmware ELF the way the kernel's remoteproc ELF loader does: header
//! sanity checks, loadable segments inside the device window, and the
//! `.resource_table` (trace, rpmsg vdev and the behaviour-script vendor entry).
use crate::firmware::{LOAD_ADDR, RSC_SCRIPT, RSC_TRACE, RSC_VDEV, VIRTIO_ID_RPMSG};

/// Size of the device memory window the simulated core maps.
pub const WINDOW: u32 = 1024 * 1024;

/// What the loader learnt from a firmware file.
#[derive(Debug, Default, Clone)]
pub struct Image {
    /// Number of `PT_LOAD` segments.
    pub segments: usize,
    /// Whether a `.resource_table` section exists.
    pub has_resource_table: bool,
    /// The trace buffer (`RSC_TRACE`): name and length.
    pub trace: Option<(String, u32)>,
    /// Whether an rpmsg vdev (`RSC_VDEV`, id 7) is declared.
    pub rpmsg: bool,
    /// The behaviour script, if the vendor entry points at one.
    pub script: Option<String>,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses `bytes`; the error is the kernel's log message for an `EINVAL`.
pub fn parse(bytes: &[u8]) -> Result<Image, String> {
    if bytes.len() < 52 {
        return Err("Image is too small".into());
    }
    if &bytes[..4] != b"\x7fELF" {
        return Err("Image is corrupted (bad magic)".into());
    }
    if bytes[4] != 1 {
        return Err(format!("Unsupported class: {}", bytes[4]));
    }
    if bytes[5] != 1 {
        return Err("Unsupported firmware endianness".into());
    }
    let field = |off| u32_at(bytes, off).unwrap_or(0);
    let half = |off| u16_at(bytes, off).unwrap_or(0) as usize;
    let phoff = field(28) as usize;
    let shoff = field(32) as usize;
    let (phentsize, phnum) = (half(42), half(44));
    let (shentsize, shnum, shstrndx) = (half(46), half(48), half(50));
    if bytes.len() < shoff.saturating_add(40) {
        return Err("Image is too small".into());
    }
    if phnum == 0 {
        return Err("No loadable segments".into());
    }
    if phoff > bytes.len() {
        return Err("Firmware size is too small".into());
    }
    let mut image = Image::default();
    let mut segs = Vec::new();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let p = |k: usize| u32_at(bytes, ph + 4 * k);
        let (Some(ptype), Some(off), Some(da), Some(filesz), Some(memsz)) =
            (p(0), p(1), p(3), p(4), p(5))
        else {
            return Err("Firmware size is too small".into());
        };
        if ptype != 1 || memsz == 0 {
            continue;
        }
        if filesz > memsz {
            return Err(format!("bad phdr filesz 0x{filesz:x} memsz 0x{memsz:x}"));
        }
        if (off as usize).saturating_add(filesz as usize) > bytes.len() {
            return Err(format!(
                "truncated fw: need 0x{:x} avail 0x{:x}",
                off as usize + filesz as usize,
                bytes.len()
            ));
        }
        if da < LOAD_ADDR || da.saturating_add(memsz) > LOAD_ADDR + WINDOW {
            return Err(format!("bad phdr da 0x{da:x} mem 0x{memsz:x}"));
        }
        segs.push((off, da, filesz));
        image.segments += 1;
    }
    if image.segments == 0 {
        return Err("no loadable segment".into());
    }
    // Section lookup by name, as rproc_elf_load_rsc_table does.
    let section = |name: &str| -> Option<(usize, usize)> {
        let strtab = shoff + shstrndx * shentsize;
        let str_off = u32_at(bytes, strtab + 16)? as usize;
        (0..shnum).find_map(|i| {
            let sh = shoff + i * shentsize;
            let n = str_off + u32_at(bytes, sh)? as usize;
            let end = n + bytes.get(n..)?.iter().position(|&c| c == 0)?;
            (&bytes[n..end] == name.as_bytes()).then_some((
                u32_at(bytes, sh + 16)? as usize,
                u32_at(bytes, sh + 20)? as usize,
            ))
        })
    };
    if shnum == 0 || shoff == 0 {
        return Ok(image);
    }
    let Some((off, size)) = section(".resource_table") else {
        return Ok(image);
    };
    let table = bytes
        .get(off..off.saturating_add(size))
        .ok_or("resource table section out of bounds")?;
    image.has_resource_table = true;
    let ver = u32_at(table, 0).ok_or("resource table is truncated")?;
    if ver != 1 {
        return Err(format!("unsupported fw ver: {ver}"));
    }
    if u32_at(table, 8) != Some(0) || u32_at(table, 12) != Some(0) {
        return Err("non zero reserved bytes".into());
    }
    let num = u32_at(table, 4).unwrap_or(0) as usize;
    for i in 0..num {
        let e = u32_at(table, 16 + 4 * i).ok_or("rsc table is truncated")? as usize;
        let kind = u32_at(table, e).ok_or("rsc table is truncated")?;
        let body = e + 4;
        match kind {
            RSC_TRACE => {
                let len = u32_at(table, body + 4).ok_or("trace rsc is truncated")?;
                let name = table
                    .get(body + 12..body + 44)
                    .ok_or("trace rsc is truncated")?;
                let end = name.iter().position(|&c| c == 0).unwrap_or(32);
                image.trace = Some((String::from_utf8_lossy(&name[..end]).into_owned(), len));
            }
            RSC_VDEV => {
                let id = u32_at(table, body).ok_or("vdev rsc is truncated")?;
                image.rpmsg |= id == VIRTIO_ID_RPMSG;
            }
            RSC_SCRIPT => {
                let da = u32_at(table, body).ok_or("vendor rsc is truncated")?;
                let len = u32_at(table, body + 4).ok_or("vendor rsc is truncated")?;
                image.script = segs.iter().find_map(|&(off, seg_da, filesz)| {
                    let rel = da.checked_sub(seg_da)?;
                    (rel.checked_add(len)? <= filesz).then(|| {
                        let start = (off + rel) as usize;
                        String::from_utf8_lossy(&bytes[start..start + len as usize]).into_owned()
                    })
                });
            }
            _ => {}
        }
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firmware::{elf_without_load_segment, not_elf, truncated_elf, Firmware};

    #[test]
    fn plain_firmware_has_one_segment_and_no_table() {
        let img = parse(&Firmware::new().bytes()).unwrap();
        assert_eq!(img.segments, 1);
        assert!(!img.has_resource_table);
        assert!(img.trace.is_none() && !img.rpmsg && img.script.is_none());
    }

    #[test]
    fn resource_table_round_trips() {
        let fw = Firmware::new()
            .with_trace(4096)
            .with_rpmsg()
            .script("trace hi\n");
        let img = parse(&fw.bytes()).unwrap();
        assert_eq!(img.trace, Some(("trace0".to_string(), 4096)));
        assert!(img.rpmsg);
        assert_eq!(img.script.as_deref(), Some("trace hi\n"));
    }

    #[test]
    fn broken_images_are_refused() {
        assert!(parse(&not_elf()).unwrap_err().contains("bad magic"));
        assert_eq!(parse(&truncated_elf()).unwrap_err(), "Image is too small");
        assert!(parse(&elf_without_load_segment())
            .unwrap_err()
            .contains("no loadable segment"));
    }
}
