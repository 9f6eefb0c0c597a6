//! Property test of the reader: random and mutated bytes never make
//! `Snapshot::from_bytes` panic, and whatever it accepts re-encodes to a
//! snapshot that reads back equal. Bounded for CI: 4 properties × 2,500 cases
//! (10,000 inputs) in a few seconds; each test prints its case count.

mod common;
use arenaprof_snapshot::HEADER_LEN;
use arenaprof_snapshot::{Snapshot, FORMAT_VERSION, MAGIC};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

const CASES: u32 = 2_500;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn good() -> &'static [u8] {
    static G: OnceLock<Vec<u8>> = OnceLock::new();
    G.get_or_init(|| common::rich().to_bytes().unwrap())
}

/// A file image around `payload` with a correct header and checksum, so the
/// payload decoder itself is exercised.
fn framed(payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_LEN + payload.len());
    b.extend_from_slice(&MAGIC);
    b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    b.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    b.extend_from_slice(payload);
    b
}

/// Reads `bytes`; if accepted, the snapshot must survive a round trip.
fn read_checked(bytes: &[u8]) {
    if let Ok(snap) = Snapshot::from_bytes(bytes) {
        let again = snap.to_bytes().expect("an accepted snapshot re-encodes");
        let back = Snapshot::from_bytes(&again).expect("and reads back");
        // NaN weights compare unequal; compare the encodings instead.
        assert_eq!(back.to_bytes().unwrap(), again);
    }
}

fn counted(counter: &'static AtomicUsize, name: &str) {
    let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
    if n == CASES as usize {
        eprintln!("reader_fuzz::{name}: {n} cases ran without a panic");
    }
}

static RANDOM: AtomicUsize = AtomicUsize::new(0);
static RANDOM_FRAMED: AtomicUsize = AtomicUsize::new(0);
static MUTATED: AtomicUsize = AtomicUsize::new(0);
static MUTATED_FRAMED: AtomicUsize = AtomicUsize::new(0);

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes, sometimes behind the right magic.
    #[test]
    fn random_bytes(mut bytes in proptest::collection::vec(any::<u8>(), 0..600), magic in any::<bool>()) {
        if magic && bytes.len() >= 12 {
            bytes[..8].copy_from_slice(&MAGIC);
            bytes[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        }
        read_checked(&bytes);
        counted(&RANDOM, "random_bytes");
    }

    /// Arbitrary payloads behind a valid header and checksum.
    #[test]
    fn random_payload_with_valid_header(payload in proptest::collection::vec(any::<u8>(), 0..600)) {
        read_checked(&framed(&payload));
        counted(&RANDOM_FRAMED, "random_payload_with_valid_header");
    }

    /// A valid file with bytes overwritten, inserted or cut anywhere (header included).
    #[test]
    fn mutated_file(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let mut b = good().to_vec();
        for (at, byte, kind) in edits {
            let i = at.index(b.len().max(1));
            match kind {
                0 if !b.is_empty() => b[i] = byte,
                1 => b.insert(i.min(b.len()), byte),
                _ if !b.is_empty() => { b.remove(i); }
                _ => {}
            }
        }
        read_checked(&b);
        counted(&MUTATED, "mutated_file");
    }

    /// A valid payload with bytes overwritten or the tail cut, re-framed with a
    /// correct checksum so the mutations reach the decoder.
    #[test]
    fn mutated_payload_with_valid_header(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut p = good()[HEADER_LEN..].to_vec();
        for (at, byte) in edits {
            let i = at.index(p.len());
            p[i] = byte;
        }
        if do_cut {
            p.truncate(cut.index(p.len()));
        }
        read_checked(&framed(&p));
        counted(&MUTATED_FRAMED, "mutated_payload_with_valid_header");
    }
}
