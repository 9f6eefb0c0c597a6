//! pprof heap profiles (`profile.proto`, gzipped), readable by `go tool
//! pprof`, Pyroscope, Parca and speedscope.
//!
//! Sample types, in order: `alloc_objects/count`, `alloc_space/bytes`,
//! `inuse_objects/count`, `inuse_space/bytes` (the default), as in Go's heap
//! profiles. Values are already unbiased: each sampled record contributes
//! `weight` objects and `weight × size` bytes. One pprof sample per
//! (stack, tag, thread, size), labelled `tag` and `thread` and with the
//! numeric label `bytes` (the allocation's size, unit `bytes`, as in Go's
//! heap profiles). Stacks are trimmed as the site tables trim them
//! ([`crate::passes::stacks::trim`]: the allocator's, the tracker's and the standard
//! library's frames at the leaf, the runtime's at the root), so `-top` and
//! `-traces` start at user code; `drop_frames` names the allocation
//! machinery too ([`ALLOCATION_FRAMES`]). A frame whose line is unknown (0)
//! has no line and no file. Mappings are the executable mappings the
//! snapshot recorded, with their build IDs. Stacks deeper than
//! [`MAX_STACK_DEPTH`] frames keep their innermost frames.
//!
//! ```
//! use arenaprof_report::render::pprof;
//! use arenaprof_report::{passes::stacks::trim, render::Options, Budget};
//! let snap = Default::default();
//! let trimmed = trim(&snap, &mut Budget::unlimited()).unwrap();
//! let profile = pprof::render(&snap, &trimmed, Options::default()).unwrap();
//! let p = pprof::decode_gzip(&pprof::to_gzip(&profile).unwrap()).unwrap();
//! assert_eq!(p.sample_type.len(), 4);
//! ```

pub use super::proto::{Function, Label, Line, Location, Mapping, Profile, Sample, ValueType};
use super::Options;
use crate::budget::{Budget, BudgetError, MAX_STACK_DEPTH};
use crate::model::{TrimmedStacks, ALLOCATION_FRAMES};
use arenaprof_snapshot::Snapshot;
use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use prost::Message;
use std::collections::HashMap;
use std::io::{Read, Write};

/// Index of each value in `Sample::value`.
pub const ALLOC_OBJECTS: usize = 0;
/// See [`ALLOC_OBJECTS`].
pub const ALLOC_SPACE: usize = 1;
/// See [`ALLOC_OBJECTS`].
pub const INUSE_OBJECTS: usize = 2;
/// See [`ALLOC_OBJECTS`].
pub const INUSE_SPACE: usize = 3;

#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        let mut s = Strings::default();
        s.get("");
        s
    }

    fn get(&mut self, v: &str) -> i64 {
        if let Some(&i) = self.index.get(v) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(v.to_owned());
        self.index.insert(v.to_owned(), i);
        i
    }
}

fn clamp(v: f64) -> i64 {
    if v.is_finite() && v > 0.0 {
        v.round().min(i64::MAX as f64) as i64
    } else {
        0
    }
}

const PROFILE: &str = "the pprof profile";

/// Builds the profile of `snap`'s samples, each listing its stack's
/// `trimmed` frames, charging what it holds to `opts.budget`: one location
/// and function per frame, and per (stack, tag, thread) sample its location
/// ids (at most [`MAX_STACK_DEPTH`], the innermost) and labels. Label
/// strings are made once per tag and per thread, however many samples carry
/// them.
pub fn render(
    snap: &Snapshot,
    trimmed: &TrimmedStacks,
    opts: Options<'_>,
) -> Result<Profile, BudgetError> {
    let mut own = Budget::unlimited();
    let budget = opts.budget.unwrap_or(&mut own);
    let heap = &snap.heap;
    let mut st = Strings::new();
    let sample_type = [
        "alloc_objects",
        "alloc_space",
        "inuse_objects",
        "inuse_space",
    ]
    .iter()
    .zip(["count", "bytes", "count", "bytes"])
    .map(|(t, u)| ValueType {
        r#type: st.get(t),
        unit: st.get(u),
    })
    .collect();
    // Functions deduplicated by (name, file); one location per frame.
    let per_frame = (std::mem::size_of::<Location>()
        + std::mem::size_of::<Line>()
        + std::mem::size_of::<Function>()
        + 64) as u64;
    budget.charge(per_frame.saturating_mul(heap.frames.len() as u64), PROFILE)?;
    let mut functions: Vec<Function> = Vec::new();
    let mut fn_ids: HashMap<(&str, &str), u64> = HashMap::new();
    let mut locations = Vec::with_capacity(heap.frames.len());
    for (i, f) in heap.frames.iter().enumerate() {
        // Line 0 means unknown: no line, and no file either (a file with
        // line 0 would read as `tracking.rs:0`).
        let file = if f.line == 0 { "" } else { f.file.as_str() };
        let next = functions.len() as u64 + 1;
        let fid = *fn_ids.entry((f.function.as_str(), file)).or_insert(next);
        if fid == next {
            budget.charge(2 * (f.function.len() + file.len()) as u64, PROFILE)?;
            functions.push(Function {
                id: fid,
                name: st.get(&f.function),
                system_name: st.get(&f.function),
                filename: st.get(file),
                start_line: 0,
            });
        }
        // The return address the frame was resolved from (version 3), in
        // the mapping that holds it; else the main executable's mapping,
        // already symbolized, at no address.
        let address = snap.code.frame_addresses.get(i).copied().unwrap_or(0);
        let (mapping_id, address) = snap
            .code
            .mappings
            .iter()
            .position(|m| m.start <= address && address < m.limit)
            .map_or((1, 0), |k| (k as u64 + 1, address));
        locations.push(Location {
            id: i as u64 + 1,
            mapping_id,
            address,
            line: vec![Line {
                function_id: fid,
                line: i64::from(f.line),
                column: 0,
            }],
            is_folded: false,
        });
    }
    // Aggregate per (stack, tag, thread, size).
    let mut agg: HashMap<(u32, u16, u32, u64), [f64; 4]> = HashMap::new();
    for s in &heap.samples {
        let w = if s.weight.is_finite() && s.weight > 0.0 {
            s.weight
        } else {
            0.0
        };
        let v = agg.entry((s.stack, s.tag, s.thread, s.size)).or_default();
        v[ALLOC_OBJECTS] += w;
        v[ALLOC_SPACE] += w * s.size as f64;
        if s.free_ns.is_none() {
            v[INUSE_OBJECTS] += w;
            v[INUSE_SPACE] += w * s.size as f64;
        }
    }
    let mut keys: Vec<(u32, u16, u32, u64)> = agg.keys().copied().collect();
    keys.sort_unstable();
    let tag_names: HashMap<u16, &str> = snap.tags.iter().map(|t| (t.id, t.name.as_str())).collect();
    let thread_names: HashMap<u32, &str> = snap
        .threads
        .iter()
        .filter(|t| !t.name.is_empty())
        .map(|t| (t.slot, t.name.as_str()))
        .collect();
    let (k_tag, k_thread) = (st.get("tag"), st.get("thread"));
    let (k_bytes, u_bytes) = (st.get("bytes"), st.get("bytes"));
    let mut tag_label: HashMap<u16, i64> = HashMap::new();
    let mut thread_label: HashMap<u32, i64> = HashMap::new();
    // Location ids of each stack, made once: trimmed as the site tables
    // trim (the allocator's frames gone), at most MAX_STACK_DEPTH.
    let mut stack_locs: HashMap<u32, Vec<u64>> = HashMap::new();
    for &(stack, _, _, _) in &keys {
        stack_locs.entry(stack).or_insert_with(|| {
            trimmed
                .frames
                .get(&stack)
                .map(|f| {
                    f.iter()
                        .filter(|&&f| (f as usize) < heap.frames.len())
                        .take(MAX_STACK_DEPTH)
                        .map(|&f| u64::from(f) + 1)
                        .collect()
                })
                .unwrap_or_default()
        });
    }
    // Every sample's location ids and labels, charged before any is made.
    let per_sample = (std::mem::size_of::<Sample>() + 3 * std::mem::size_of::<Label>() + 32) as u64;
    let cost = keys.iter().fold(0u64, |acc, (stack, _, _, _)| {
        let locs = stack_locs.get(stack).map_or(0, Vec::len) as u64;
        acc.saturating_add(per_sample + 8 * locs)
    });
    budget.charge_with(cost, || {
        format!("{PROFILE}'s samples ({} stacks)", keys.len())
    })?;
    let mut samples = Vec::with_capacity(keys.len());
    for key @ (stack, tag, thread, size) in keys {
        let v = agg.get(&key).copied().unwrap_or_default();
        let location_id = stack_locs.get(&stack).cloned().unwrap_or_default();
        let tag_s = match tag_label.get(&tag) {
            Some(&i) => i,
            None => {
                let name = tag_names
                    .get(&tag)
                    .map_or_else(|| format!("tag#{tag}"), |s| s.to_string());
                budget.charge(2 * name.len() as u64, PROFILE)?;
                let i = st.get(&name);
                tag_label.insert(tag, i);
                i
            }
        };
        let thread_s = match thread_label.get(&thread) {
            Some(&i) => i,
            None => {
                let name = thread_names.get(&thread).map_or_else(
                    || format!("thread-{thread}"),
                    |s| format!("{s} (#{thread})"),
                );
                budget.charge(2 * name.len() as u64, PROFILE)?;
                let i = st.get(&name);
                thread_label.insert(thread, i);
                i
            }
        };
        samples.push(Sample {
            location_id,
            value: v.iter().map(|&x| clamp(x)).collect(),
            label: vec![
                Label {
                    key: k_tag,
                    str: tag_s,
                    num: 0,
                    num_unit: 0,
                },
                Label {
                    key: k_thread,
                    str: thread_s,
                    num: 0,
                    num_unit: 0,
                },
                Label {
                    key: k_bytes,
                    str: 0,
                    num: size.min(i64::MAX as u64) as i64,
                    num_unit: u_bytes,
                },
            ],
        });
    }
    let mapping = mappings(snap, &mut st, budget)?;
    let comment = vec![st.get(&format!(
        "arenaprof snapshot of {} (sampling {:?})",
        snap.meta.program, snap.meta.sampling.mode
    ))];
    let period_type = Some(ValueType {
        r#type: st.get("space"),
        unit: st.get("bytes"),
    });
    let default_sample_type = st.get("inuse_space");
    let drop_frames = st.get(ALLOCATION_FRAMES);
    Ok(Profile {
        sample_type,
        sample: samples,
        mapping,
        location: locations,
        function: functions,
        string_table: std::mem::take(&mut st.table),
        drop_frames,
        keep_frames: 0,
        time_nanos: clamp(snap.meta.unix_ms as f64 * 1e6),
        duration_nanos: clamp(snap.meta.elapsed_ns as f64),
        period_type,
        period: snap.meta.sampling.mean_bytes.min(i64::MAX as u64) as i64,
        comment,
        default_sample_type,
    })
}

/// One mapping per executable mapping the snapshot recorded (format
/// version 3: address range, file offset, path, GNU build ID), the main
/// executable's first; a snapshot without them gets one mapping named after
/// the program.
fn mappings(
    snap: &Snapshot,
    st: &mut Strings,
    budget: &mut Budget,
) -> Result<Vec<Mapping>, BudgetError> {
    let cost = snap.code.mappings.iter().fold(0u64, |acc, m| {
        acc.saturating_add(
            (std::mem::size_of::<Mapping>() + 2 * (m.path.len() + m.build_id.len())) as u64,
        )
    });
    budget.charge(cost, PROFILE)?;
    let symbolized =
        |id: u64, filename: i64, build_id: i64, (start, limit, offset): (u64, u64, u64)| Mapping {
            id,
            memory_start: start,
            memory_limit: limit,
            file_offset: offset,
            filename,
            build_id,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
        };
    if snap.code.mappings.is_empty() {
        let name = st.get(&snap.meta.program);
        return Ok(vec![symbolized(1, name, 0, (0, 0, 0))]);
    }
    Ok(snap
        .code
        .mappings
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (path, id) = (st.get(&m.path), st.get(&m.build_id));
            symbolized(i as u64 + 1, path, id, (m.start, m.limit, m.file_offset))
        })
        .collect())
}

/// Encodes and gzips a profile.
pub fn to_gzip(p: &Profile) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(&p.encode_to_vec())?;
    enc.finish()
}

/// Why [`decode_gzip`] could not read a profile.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not gzip.
    #[error("not gzip: {0}")]
    Gzip(#[from] std::io::Error),
    /// The gunzipped bytes are not a `profile.proto` message.
    #[error("not a profile.proto message: {0}")]
    Proto(#[from] prost::DecodeError),
}

/// Gunzips and decodes a profile (for tests and tools).
pub fn decode_gzip(bytes: &[u8]) -> Result<Profile, DecodeError> {
    let mut raw = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut raw)?;
    Ok(Profile::decode(raw.as_slice())?)
}
