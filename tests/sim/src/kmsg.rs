//! The kernel log ring behind `dev/kmsg`: records with sequence numbers and
//! timestamps, formatted as `/dev/kmsg` formats them.
use std::collections::VecDeque;
use std::time::Instant;

/// How many records are kept before the oldest are dropped.
const CAPACITY: usize = 4096;

/// `KERN_ERR`.
pub const ERR: u8 = 3;
/// `KERN_WARNING`.
pub const WARN: u8 = 4;
/// `KERN_INFO`.
pub const INFO: u8 = 6;

struct Record {
    prio: u8,
    seq: u64,
    usec: u128,
    text: String,
}

/// The log.
pub struct Kmsg {
    records: VecDeque<Record>,
    next_seq: u64,
    boot: Instant,
}

/// What a reader at a given sequence number gets.
pub enum Next {
    /// The formatted record and the reader's next sequence number.
    Record(Vec<u8>, u64),
    /// The reader fell behind the ring: `EPIPE`, continue at the given seq.
    Overrun(u64),
    /// Nothing new yet.
    Empty,
}

impl Kmsg {
    pub fn new() -> Self {
        Kmsg {
            records: VecDeque::new(),
            next_seq: 0,
            boot: Instant::now(),
        }
    }

    /// Appends one record (one line of text).
    pub fn log(&mut self, prio: u8, text: String) {
        if self.records.len() == CAPACITY {
            self.records.pop_front();
        }
        self.records.push_back(Record {
            prio,
            seq: self.next_seq,
            usec: self.boot.elapsed().as_micros(),
            text,
        });
        self.next_seq += 1;
    }

    /// Sequence number of the oldest record kept (where a fresh open starts).
    pub fn first_seq(&self) -> u64 {
        self.records.front().map_or(self.next_seq, |r| r.seq)
    }

    /// The record at `seq`.
    pub fn next(&self, seq: u64) -> Next {
        let first = self.first_seq();
        if seq < first {
            return Next::Overrun(first);
        }
        match self.records.get((seq - first) as usize) {
            Some(r) => {
                // Facility 0 (kernel): the prefix is the bare level.
                let line = format!("{},{},{},-;{}\n", r.prio, r.seq, r.usec, r.text);
                Next::Record(line.into_bytes(), seq + 1)
            }
            None => Next::Empty,
        }
    }

    /// Whether a reader at `seq` has something to read.
    pub fn readable(&self, seq: u64) -> bool {
        seq < self.next_seq
    }
}
