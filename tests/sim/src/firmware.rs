//! Builds small, real ELF32 ARM firmware images: one PT_LOAD at 0x2000_0000 holding
//! a vector table, an optional `.resource_table` (trace, rpmsg vdev, behaviour
//! script) and the behaviour script section `.hybrid_sim`.
use std::path::Path;

/// Device address of the loadable window (1 MiB).
pub const LOAD_ADDR: u32 = 0x2000_0000;
/// Device address of the trace buffer.
pub const TRACE_ADDR: u32 = 0x2008_0000;
/// Largest trace buffer that fits the window.
pub const TRACE_MAX: u32 = 256 * 1024;
/// `FW_RSC_ADDR_ANY`: let the host allocate.
pub const RSC_ADDR_ANY: u32 = 0xFFFF_FFFF;
/// Resource types of `struct fw_rsc_hdr`.
pub const RSC_TRACE: u32 = 2;
pub const RSC_VDEV: u32 = 3;
/// Vendor resource pointing at the behaviour script.
pub const RSC_SCRIPT: u32 = 128;
/// `VIRTIO_ID_RPMSG`.
pub const VIRTIO_ID_RPMSG: u32 = 7;

const EHDR: usize = 52;
const PHDR: usize = 32;
const SHDR: usize = 40;
const SEG_OFF: usize = 0x100;

/// A firmware image under construction.
#[derive(Clone, Debug, Default)]
pub struct Firmware {
    trace: Option<u32>,
    rpmsg: bool,
    script: Option<String>,
}

impl Firmware {
    /// A valid ELF32 LE ARM `ET_EXEC` with one PT_LOAD and no resource table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a trace buffer `trace0` of `len` bytes (at most 256 KiB).
    pub fn with_trace(mut self, len: u32) -> Self {
        self.trace = Some(len.min(TRACE_MAX));
        self
    }

    /// Declares an rpmsg virtio device with two vrings.
    pub fn with_rpmsg(mut self) -> Self {
        self.rpmsg = true;
        self
    }

    /// Sets the behaviour script the simulator executes (see the crate README).
    pub fn script(mut self, text: &str) -> Self {
        self.script = Some(text.to_string());
        self
    }

    /// The ELF file.
    pub fn bytes(&self) -> Vec<u8> {
        // Segment content: vector table, resource table, script.
        let text: Vec<u8> = [0x2001_0000u32, LOAD_ADDR + 9, 0xE7FE_E7FE]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let mut seg = text.clone();
        let mut sections: Vec<(&str, usize, usize, u32)> = vec![(".text", 0, text.len(), 6)];
        if self.trace.is_some() || self.rpmsg || self.script.is_some() {
            align4(&mut seg);
            let rsc_start = seg.len();
            let script_start = rsc_start + self.resource_table(0).len();
            let table = self.resource_table(LOAD_ADDR + script_start as u32);
            seg.extend_from_slice(&table);
            sections.push((".resource_table", rsc_start, table.len(), 3));
            if let Some(s) = &self.script {
                seg.extend_from_slice(s.as_bytes());
                sections.push((".hybrid_sim", script_start, s.len(), 2));
            }
        }
        // Section name table.
        let mut shstr = vec![0u8];
        let mut name_offs = Vec::new();
        for (name, ..) in &sections {
            name_offs.push(shstr.len() as u32);
            shstr.extend_from_slice(name.as_bytes());
            shstr.push(0);
        }
        let shstrtab_name = shstr.len() as u32;
        shstr.extend_from_slice(b".shstrtab\0");

        let mut out = vec![0u8; SEG_OFF];
        out.extend_from_slice(&seg);
        let shstr_off = out.len();
        out.extend_from_slice(&shstr);
        align4(&mut out);
        let sh_off = out.len();
        let shnum = sections.len() + 2;

        // ELF header.
        let mut h = Vec::with_capacity(EHDR);
        h.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        h.extend_from_slice(&40u16.to_le_bytes()); // EM_ARM
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&(LOAD_ADDR + 9).to_le_bytes()); // entry (thumb)
        h.extend_from_slice(&(EHDR as u32).to_le_bytes()); // phoff
        h.extend_from_slice(&(sh_off as u32).to_le_bytes()); // shoff
        h.extend_from_slice(&0x0500_0400u32.to_le_bytes()); // EABI5, hard float
        h.extend_from_slice(&(EHDR as u16).to_le_bytes());
        h.extend_from_slice(&(PHDR as u16).to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&(SHDR as u16).to_le_bytes());
        h.extend_from_slice(&(shnum as u16).to_le_bytes());
        h.extend_from_slice(&((shnum - 1) as u16).to_le_bytes());
        out[..EHDR].copy_from_slice(&h);

        // Program header: PT_LOAD, RWX.
        let ph: Vec<u8> = [
            1,
            SEG_OFF as u32,
            LOAD_ADDR,
            LOAD_ADDR,
            seg.len() as u32,
            seg.len() as u32,
            7,
            4,
        ]
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
        out[EHDR..EHDR + PHDR].copy_from_slice(&ph);

        // Section headers: null, sections, .shstrtab.
        out.extend_from_slice(&[0u8; SHDR]);
        for ((_, start, len, flags), name) in sections.iter().zip(&name_offs) {
            push_shdr(
                &mut out,
                [
                    *name,
                    1,
                    *flags,
                    LOAD_ADDR + *start as u32,
                    (SEG_OFF + start) as u32,
                    *len as u32,
                    0,
                    0,
                    4,
                    0,
                ],
            );
        }
        push_shdr(
            &mut out,
            [
                shstrtab_name,
                3,
                0,
                0,
                shstr_off as u32,
                shstr.len() as u32,
                0,
                0,
                1,
                0,
            ],
        );
        out
    }

    /// Writes the ELF file to `path`.
    pub fn write_to(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.bytes())
    }

    fn resource_table(&self, script_da: u32) -> Vec<u8> {
        let mut entries = Vec::new();
        if let Some(len) = self.trace {
            let mut e = words(&[RSC_TRACE, TRACE_ADDR, len, 0]);
            let mut name = [0u8; 32];
            name[..6].copy_from_slice(b"trace0");
            e.extend_from_slice(&name);
            entries.push(e);
        }
        if self.rpmsg {
            // fw_rsc_vdev: VIRTIO_RPMSG_F_NS, two vrings, no config space.
            let mut e = words(&[RSC_VDEV, VIRTIO_ID_RPMSG, 2, 1, 0, 0]);
            e.extend_from_slice(&[0, 2, 0, 0]);
            for notifyid in 0..2 {
                e.extend_from_slice(&words(&[RSC_ADDR_ANY, 16, 8, notifyid, 0]));
            }
            entries.push(e);
        }
        if let Some(s) = &self.script {
            entries.push(words(&[RSC_SCRIPT, script_da, s.len() as u32]));
        }
        let mut table = words(&[1, entries.len() as u32, 0, 0]);
        let mut off = 16 + 4 * entries.len();
        for e in &entries {
            table.extend_from_slice(&(off as u32).to_le_bytes());
            off += e.len();
        }
        for e in entries {
            table.extend_from_slice(&e);
        }
        table
    }
}

fn words(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn align4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

fn push_shdr(out: &mut Vec<u8>, fields: [u32; 10]) {
    out.extend_from_slice(&words(&fields));
}

/// A file that is not an ELF at all.
pub fn not_elf() -> Vec<u8> {
    b"#!/bin/sh\n# a shell script, not firmware: the loader must refuse it\necho hello\n".to_vec()
}

/// A valid header whose segment runs past the end of the file.
pub fn truncated_elf() -> Vec<u8> {
    let mut b = Firmware::new().bytes();
    b.truncate(SEG_OFF + 4);
    b
}

/// A valid ELF whose only program header is not `PT_LOAD`.
pub fn elf_without_load_segment() -> Vec<u8> {
    let mut b = Firmware::new().bytes();
    b[EHDR..EHDR + 4].copy_from_slice(&4u32.to_le_bytes()); // PT_NOTE
    b
}
