//! Workloads users run, each a function of a size: `BIN WORKLOAD [N]`
//! prints `WORKLOAD seconds checksum`. The checksum keeps the work from
//! being optimised away and must match between allocators.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::Instant;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `Vec::with_capacity(8..135)` allocated and dropped at once, `n` times.
fn tight(n: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        // black_box on the Vec itself: the allocation and the free happen
        // (a pair the optimiser sees whole it would remove).
        let v: Vec<u8> = black_box(Vec::with_capacity(8 + (i % 128) as usize));
        sum = sum.wrapping_add(v.capacity() as u64);
    }
    sum
}

/// The tight loop as the workspace's bench runs it: sizes drawn at random
/// from `8..135` and a byte written to and read from each block before it
/// is dropped.
fn touched(n: u64) -> u64 {
    let mut rng = Rng(7);
    let mut sum = 0u64;
    for _ in 0..n {
        let x = rng.next();
        let mut v: Vec<u8> = Vec::with_capacity(8 + (x % 128) as usize);
        v.push(x as u8);
        sum = sum.wrapping_add(black_box(&v)[0] as u64);
    }
    sum
}

/// `n` live 16-byte boxes, then all dropped (a growth phase).
fn boxes(n: u64) -> u64 {
    let v: Vec<Box<[u64; 2]>> = (0..n).map(|i| Box::new([i, i ^ 7])).collect();
    let s = v.iter().fold(0u64, |a, b| a.wrapping_add(b[0] ^ b[1]));
    drop(black_box(v));
    s
}

/// One thread allocates `Box<[u8; 48]>`, another frees them, through a
/// channel (cross-thread frees).
fn channel(n: u64) -> u64 {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Box<[u8; 48]>>(1024);
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            let mut b = Box::new([0u8; 48]);
            b[0] = i as u8;
            tx.send(b).unwrap();
        }
    });
    let mut s = 0u64;
    for b in rx {
        s = s.wrapping_add(b[0] as u64);
    }
    producer.join().unwrap();
    s
}

/// Word count: `HashMap<String, u64>` over `n` generated words.
fn words(n: u64) -> u64 {
    let mut rng = Rng(42);
    let mut text = String::new();
    for _ in 0..n {
        let len = 1 + rng.next() % 9;
        for _ in 0..len {
            text.push((b'a' + (rng.next() % 6) as u8) as char);
        }
        text.push(' ');
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    for w in text.split_whitespace() {
        *counts.entry(w.to_owned()).or_default() += 1;
    }
    counts.len() as u64 + counts.values().sum::<u64>()
}

/// `BTreeMap<u64, Vec<u8>>` of `n` entries of 16-64 B, half removed.
fn btree(n: u64) -> u64 {
    let mut rng = Rng(7);
    let mut m = BTreeMap::new();
    for i in 0..n {
        let len = 16 + (rng.next() % 49) as usize;
        m.insert(i, vec![i as u8; len]);
    }
    for i in (0..n).step_by(2) {
        m.remove(&i);
    }
    m.values().map(|v| v.len() as u64).sum()
}

/// serde_json: a generated document of `n` records parsed into `Value`,
/// walked and written back.
fn json(n: u64) -> u64 {
    let mut rng = Rng(3);
    let mut doc = String::from("[");
    for i in 0..n {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&format!(
            r#"{{"id":{i},"name":"user{}","tags":["a{}","b{}"],"score":{}.5,"active":{}}}"#,
            rng.next() % 1000,
            rng.next() % 50,
            rng.next() % 50,
            rng.next() % 100,
            rng.next() % 2 == 0
        ));
    }
    doc.push(']');
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let count = v.as_array().map_or(0, |a| {
        a.iter()
            .filter(|r| r["active"].as_bool() == Some(true))
            .count()
    }) as u64;
    let out = serde_json::to_string(&v).unwrap();
    count + out.len() as u64
}

/// `n` live blocks of `size` bytes at `align`, written, then all freed:
/// the memory a program of small objects holds (`live16`: 16 B at 8;
/// `live64a4096`: 64 B at 4,096).
fn live(n: u64, size: usize, align: usize) -> u64 {
    let layout = std::alloc::Layout::from_size_align(size, align).unwrap();
    let blocks: Vec<*mut u8> = (0..n)
        .map(|i| {
            // SAFETY: a non-zero size.
            let p = unsafe { std::alloc::alloc(layout) };
            assert!(!p.is_null());
            // SAFETY: `p` is a fresh block of `size >= 1` bytes.
            unsafe { p.write(i as u8) };
            p
        })
        .collect();
    // SAFETY: every pointer is a live block of `layout`, read once, then freed.
    let s = blocks
        .iter()
        .fold(0u64, |a, &p| a.wrapping_add(unsafe { *p } as u64));
    for p in black_box(blocks) {
        // SAFETY: as above.
        unsafe { std::alloc::dealloc(p, layout) };
    }
    s
}

/// How the `tagged` workload runs its loop: under a tag of the tracker's
/// (set by the tracked binary), or as is (bare jemalloc has no tags).
static SCOPE: std::sync::OnceLock<fn(&mut dyn FnMut())> = std::sync::OnceLock::new();

/// Sets how [`SCOPE`] runs a closure: the tracked binary runs it under a tag.
pub fn set_scope(f: fn(&mut dyn FnMut())) {
    let _ = SCOPE.set(f);
}

/// The tight loop under a tag (tagged memory takes the tag's own arena).
fn tagged(n: u64) -> u64 {
    let mut sum = 0;
    let mut body = || sum = tight(n);
    match SCOPE.get() {
        Some(scope) => scope(&mut body),
        None => body(),
    }
    sum
}

/// Runs the workload named on the command line.
pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map(String::as_str).unwrap_or("tight");
    let n: Option<u64> = args.get(2).and_then(|s| s.parse().ok());
    let (f, default): (fn(u64) -> u64, u64) = match name {
        "tight" => (tight, 50_000_000),
        "touched" => (touched, 50_000_000),
        "tagged" => (tagged, 50_000_000),
        "boxes" => (boxes, 10_000_000),
        "channel" => (channel, 5_000_000),
        "words" => (words, 5_000_000),
        "btree" => (btree, 3_000_000),
        "json" => (json, 400_000),
        "live8" => (|n| live(n, 8, 8), 10_000_000),
        "live16" => (|n| live(n, 16, 8), 10_000_000),
        "live24" => (|n| live(n, 24, 8), 10_000_000),
        "live32" => (|n| live(n, 32, 8), 10_000_000),
        "live48" => (|n| live(n, 48, 8), 10_000_000),
        "live64" => (|n| live(n, 64, 8), 10_000_000),
        "live64a4096" => (|n| live(n, 64, 4096), 100_000),
        other => {
            eprintln!(
                "unknown workload {other}: tight, touched, tagged, boxes, channel, words, btree, json, \
                 live8, live16, live24, live32, live48, live64, live64a4096"
            );
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    let sum = f(n.unwrap_or(default));
    println!("{name} {:.4} {sum}", t.elapsed().as_secs_f64());
}
