//! One layer, read once as a stream: the blob's bytes hashed (against its descriptor's digest)
//! while they are decompressed, the tar hashed (against the config's diff id) while its entries
//! are unpacked, and both checked at the end. Whatever stops a layer, a blob that does not match
//! its digest is reported as such first; the caller removes what was unpacked.

use std::io::{BufReader, Read};

use super::decompress::Decoder;
use super::meter::{drain, Meter};
use super::spec::Layer;
use super::unpack::{too_big, Stop, Unpacker};

/// Bytes of the blob read ahead of the decompressor.
const BUFFER: usize = 64 * 1024;

/// Apply `layer` to the unpacker; the error is the message for the layer (the caller names the
/// image).
pub fn apply(unpacker: &mut Unpacker, layer: Layer) -> Result<(), String> {
    let Layer {
        blob,
        what,
        compression,
        digest,
        diff_id,
    } = layer;
    let fail = |msg: &str| format!("{what}: {msg}");
    let blob_size = blob.size();
    let source = BufReader::with_capacity(BUFFER, Meter::new(blob, u64::MAX));
    let decoder = Decoder::new(source, compression).map_err(|e| fail(&e.to_string()))?;
    let mut tar = Meter::new(decoder, unpacker.tar_left);
    let outcome = unpack(unpacker, &mut tar);
    unpacker.tar_left = unpacker.tar_left.saturating_sub(tar.count);
    let blob_meter = tar.get_mut().source().get_mut();
    // What the decompressor left unread is still part of the blob.
    let rest = drain(blob_meter);
    if let Some(want) = &digest {
        let got = blob_meter.digest();
        if rest.is_ok() && blob_meter.count == blob_size && got != *want {
            return Err(format!(
                "blob {what} does not match its digest (its content hashes to {got})"
            ));
        }
    }
    if let Err(stop) = outcome {
        return Err(fail(&message(stop, &tar, unpacker.cap)));
    }
    if let Err(e) = rest {
        return Err(fail(&format!("reading the blob: {e}")));
    }
    if blob_meter.count != blob_size {
        return Err(fail("the blob is truncated"));
    }
    if let Some(want) = &diff_id {
        let got = tar.digest();
        if got != *want {
            return Err(fail(&format!(
                "does not match its digest in the image config ({want}; its content hashes to \
                 {got})"
            )));
        }
    }
    Ok(())
}

/// Unpack the tar stream up to its end marker, then read the rest of it (the padding after the
/// marker counts for its digest; a gzip member's CRC and length are checked at its end).
fn unpack<R: Read>(unpacker: &mut Unpacker, tar: &mut Meter<R>) -> Result<(), Stop> {
    unpacker.layer(&mut *tar)?;
    if tar.ended {
        return Err(Stop::Read(std::io::Error::other(
            "no end-of-archive marker",
        )));
    }
    drain(tar).map_err(Stop::Read)?;
    Ok(())
}

/// The message for a layer that stopped: a stream that ran dry is a truncated archive, one past
/// the budget a decompression bomb.
fn message<R>(stop: Stop, tar: &Meter<R>, cap: u64) -> String {
    match stop {
        Stop::Refused(e) => e.msg,
        Stop::Read(_) if tar.over => too_big(cap, "counting its tar data"),
        Stop::Read(_) if tar.ended => String::from("the archive is truncated"),
        Stop::Read(e) => e.to_string(),
    }
}
