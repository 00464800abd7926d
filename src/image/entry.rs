//! A tar entry's header as the runtime acts on it, read through the tar crate (ustar, GNU long
//! names, pax records): its kind, its path and link target as text, its size and mode. GNU sparse
//! entries (type `S`, or pax `GNU.sparse.*` records) are told apart so that they can be refused.

use std::io::{self, Read};

use tar::EntryType;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    HardLink,
    Symlink,
    Device,
    Fifo,
    Dir,
    /// A GNU sparse file: its data is not its content.
    Sparse,
    /// A pax global header (`git archive` writes one): it names no file.
    Global,
    Other(u8),
}

pub struct Header {
    pub path: String,
    pub link: String,
    pub kind: Kind,
    pub size: u64,
    pub mode: u32,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The header of `e`. A pax record that is malformed, or a pax `size` that is not a number, is
/// an error rather than ignored.
pub fn read<R: Read>(e: &mut tar::Entry<'_, R>) -> io::Result<Header> {
    let mut kind = match e.header().entry_type() {
        EntryType::Regular | EntryType::Continuous => Kind::File,
        EntryType::Link => Kind::HardLink,
        EntryType::Symlink => Kind::Symlink,
        EntryType::Char | EntryType::Block => Kind::Device,
        EntryType::Fifo => Kind::Fifo,
        EntryType::Directory => Kind::Dir,
        EntryType::GNUSparse => Kind::Sparse,
        EntryType::XGlobalHeader => Kind::Global,
        other => Kind::Other(other.as_byte()),
    };
    if let Some(records) = e.pax_extensions()? {
        for r in records {
            let r = r?;
            let key = r.key_bytes();
            if key.starts_with(b"GNU.sparse.") {
                kind = Kind::Sparse;
            }
            let number = std::str::from_utf8(r.value_bytes()).map(str::parse::<u64>);
            if key == b"size" && !matches!(number, Ok(Ok(_))) {
                return Err(io::Error::other("bad size in a pax header"));
            }
        }
    }
    Ok(Header {
        path: text(&e.path_bytes()),
        link: e.link_name_bytes().map_or_else(String::new, |l| text(&l)),
        kind,
        size: e.size(),
        mode: e.header().mode()?,
    })
}
