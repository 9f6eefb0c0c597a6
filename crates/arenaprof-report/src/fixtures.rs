//! Synthetic snapshots with known contents, for tests, examples, benchmarks
//! and documentation (no allocator or array crate needed).
//!
//! [`pinned_views`] is the case the tool exists for: an 800 MB `arange`
//! whose owner was dropped, kept alive by an 80-byte view at the end of a
//! chain of three derivations (`slice`, `t()`, `slice`).
//!
//! ```
//! let snap = arenaprof_report::fixtures::pinned_views();
//! let r = arenaprof_report::analyze(&snap, &Default::default());
//! assert_eq!(r.arenas[0].wasted_bytes, 800_000_000 - 80);
//! assert_eq!(r.arenas[0].retainers[0].chain.len(), 4);
//! ```

use arenaprof_snapshot::{
    ArenaRecord, CodeMap, CodeMapping, Counters, Frame, HeapProfile, Histogram, JemallocStats,
    Layout, Mark, Meta, NativeMemory, Overhead, PointReason, ProcessStats, Registry, Sample,
    SamplingConfig, SamplingMode, Site, Snapshot, Stack, TagStats, ThreadStats, ThreadTagStats,
    Timeline, TimelinePoint, ViewRecord,
};

/// Elements of the big `arange` in [`pinned_views`].
pub const N: usize = 100_000_000;
/// Its capacity in bytes (`i64`).
pub const CAPACITY: u64 = N as u64 * 8;
/// Bytes the retaining view reaches (10 × `i64`).
pub const VIEW_BYTES: u64 = 80;
/// Source file the fixture's sites name.
pub const FILE: &str = "src/main.rs";
/// Live bytes of the GEMM workspaces after the jump.
pub const GEMM_BYTES: u64 = 48 << 20;
/// Time of the GEMM jump.
pub const GEMM_AT_NS: u64 = 1_200_000_000;

/// A source site in [`FILE`].
pub fn site(line: u32, col: u32) -> Site {
    Site {
        file: FILE.to_owned(),
        line,
        col,
    }
}

fn layout(offset: i64, shape: &[usize], strides: &[isize]) -> Layout {
    Layout {
        offset,
        shape: shape.to_vec(),
        strides: strides.to_vec(),
        elem_size: 8,
    }
}

fn counters(
    live: u64,
    peak: u64,
    peak_at: u64,
    allocated: u64,
    allocs: u64,
    frees: u64,
) -> Counters {
    Counters {
        live_bytes: live,
        peak_bytes: peak,
        peak_at_ns: peak_at,
        allocated_bytes: allocated,
        freed_bytes: allocated - live,
        alloc_count: allocs,
        free_count: frees,
        ..Default::default()
    }
}

fn hist(p50: u64, max: u64) -> Histogram {
    Histogram {
        buckets: vec![(p50, 10), (max, 1)],
        percentiles: vec![(50.0, p50), (90.0, p50), (99.0, max), (100.0, max)],
    }
}

fn frame(function: &str, file: &str, line: u32) -> Frame {
    Frame {
        function: function.to_owned(),
        file: file.to_owned(),
        line,
    }
}

/// The registry of [`pinned_views`]: arena 1 (`arange(N)`, owner dropped),
/// views #1 (owner, dropped) → #2 `slice[1000..]` (dropped) → #3 `t()`
/// (dropped) → #4 `slice[..10]` (alive); plus arena 2, a small `zeros`
/// matrix whose owner is alive.
pub fn pinned_registry() -> Registry {
    let n = N;
    Registry {
        arenas: vec![
            ArenaRecord {
                id: 1,
                capacity_bytes: CAPACITY,
                elem_type: "i64".into(),
                elem_size: 8,
                shape: vec![n],
                site: site(10, 13),
                op: "arange".into(),
                thread: 0,
                created_ns: 100_000_000,
                owner_alive: false,
            },
            ArenaRecord {
                id: 2,
                capacity_bytes: 64 * 64 * 8,
                elem_type: "f64".into(),
                elem_size: 8,
                shape: vec![64, 64],
                site: site(20, 13),
                op: "zeros".into(),
                thread: 0,
                created_ns: 150_000_000,
                owner_alive: true,
            },
        ],
        views: vec![
            ViewRecord {
                id: 1,
                arena: 1,
                parent: None,
                op: "arange".into(),
                site: site(10, 13),
                alive: false,
                is_owner: true,
                layout: layout(0, &[n], &[1]),
                created_ns: 100_000_000,
                thread: 0,
            },
            ViewRecord {
                id: 2,
                arena: 1,
                parent: Some(1),
                op: "slice[1000..]".into(),
                site: site(11, 15),
                alive: false,
                is_owner: false,
                layout: layout(1000, &[n - 1000], &[1]),
                created_ns: 110_000_000,
                thread: 0,
            },
            ViewRecord {
                id: 3,
                arena: 1,
                parent: Some(2),
                op: "t()".into(),
                site: site(12, 15),
                alive: false,
                is_owner: false,
                layout: layout(1000, &[n - 1000], &[1]),
                created_ns: 120_000_000,
                thread: 0,
            },
            ViewRecord {
                id: 4,
                arena: 1,
                parent: Some(3),
                op: "slice[..10]".into(),
                site: site(14, 15),
                alive: true,
                is_owner: false,
                layout: layout(1000, &[10], &[1]),
                created_ns: 130_000_000,
                thread: 0,
            },
            ViewRecord {
                id: 5,
                arena: 2,
                parent: None,
                op: "zeros".into(),
                site: site(20, 13),
                alive: true,
                is_owner: true,
                layout: layout(0, &[64, 64], &[64, 1]),
                created_ns: 150_000_000,
                thread: 0,
            },
        ],
        cow: vec![],
        arenas_created: 2,
        views_created: 5,
    }
}

/// The full snapshot around [`pinned_registry`]: three tags, two threads,
/// a timeline with a 48 MiB GEMM jump at 1.2 s right after the mark
/// `first matmul`, sampled stacks, jemalloc figures and RSS.
pub fn pinned_views() -> Snapshot {
    let gemm = GEMM_BYTES;
    let small = 32_768u64;
    let arena2 = 64 * 64 * 8;
    let array_live = CAPACITY + arena2;
    let frames = vec![
        frame(
            "alloc::raw_vec::RawVec<T,A>::allocate_in",
            "/rustc/abc/library/alloc/src/raw_vec.rs",
            400,
        ),
        frame(
            "arenaprof_array::Array<T>::arange",
            "crates/arenaprof-array/src/array.rs",
            120,
        ),
        frame("demo_app::load_signal", FILE, 10),
        frame("demo_app::main", FILE, 30),
        frame(
            "arenaprof_gemm::pool::Workspace::new",
            "crates/arenaprof-gemm/src/pool.rs",
            40,
        ),
        frame("demo_app::multiply", FILE, 22),
        frame("demo_app::parse_config", FILE, 5),
    ];
    let stacks = vec![
        Stack {
            frames: vec![0, 1, 2, 3],
        },
        Stack {
            frames: vec![0, 4, 5, 3],
        },
        Stack {
            frames: vec![0, 6, 3],
        },
        Stack {
            frames: vec![0, 1, 5, 3],
        },
    ];
    let mut samples = vec![Sample {
        stack: 0,
        tag: 1,
        thread: 0,
        size: CAPACITY,
        weight: 1.0,
        alloc_ns: 100_000_000,
        free_ns: None,
    }];
    samples.push(Sample {
        stack: 3,
        tag: 1,
        thread: 0,
        size: arena2,
        weight: 1.0 / (1.0 - (-(arena2 as f64) / 524_288.0).exp()),
        alloc_ns: 150_000_000,
        free_ns: None,
    });
    for k in 0..16u64 {
        samples.push(Sample {
            stack: 1,
            tag: 2,
            thread: 1,
            size: 3 << 20,
            weight: 1.0,
            alloc_ns: GEMM_AT_NS - 50_000_000 + k,
            free_ns: None,
        });
    }
    for k in 0..4u64 {
        samples.push(Sample {
            stack: 2,
            tag: 0,
            thread: 0,
            size: 4096,
            weight: 1.0 / (1.0 - (-4096.0f64 / 524_288.0).exp()),
            alloc_ns: 10_000_000 + k,
            free_ns: Some(20_000_000 + k),
        });
    }
    let peak_ns = GEMM_AT_NS;
    let mut heap = HeapProfile {
        frames,
        stacks,
        samples,
        ..Default::default()
    };
    heap.at_peak = heap.live_at(peak_ns);
    let total_live = array_live + gemm + small;
    let tags = vec![
        TagStats {
            id: 0,
            name: "untagged".into(),
            counters: counters(small, 1 << 20, 20_000_000, 8 << 20, 2000, 1990),
            sizes: hist(64, 1 << 20),
            lifetimes_ns: hist(10_000, 1_000_000),
        },
        TagStats {
            id: 1,
            name: "array-base".into(),
            counters: counters(array_live, array_live, 150_000_000, array_live, 2, 0),
            sizes: hist(arena2, CAPACITY),
            lifetimes_ns: Histogram::default(),
        },
        TagStats {
            id: 2,
            name: "gemm-workspace".into(),
            counters: counters(gemm, gemm, GEMM_AT_NS, gemm, 16, 0),
            sizes: hist(3 << 20, 3 << 20),
            lifetimes_ns: Histogram::default(),
        },
    ];
    let threads = vec![
        ThreadStats {
            slot: 0,
            name: "main".into(),
            os_tid: 4242,
            alive: true,
            counters: counters(
                array_live + small,
                array_live + small,
                150_000_000,
                array_live + (8 << 20),
                2002,
                1990,
            ),
            tags: vec![
                ThreadTagStats {
                    tag: 0,
                    counters: tags[0].counters,
                },
                ThreadTagStats {
                    tag: 1,
                    counters: tags[1].counters,
                },
            ],
        },
        ThreadStats {
            slot: 1,
            name: "gemm-worker-0".into(),
            os_tid: 4243,
            alive: true,
            counters: tags[2].counters,
            tags: vec![ThreadTagStats {
                tag: 2,
                counters: tags[2].counters,
            }],
        },
    ];
    let mut total = counters(
        total_live,
        total_live,
        GEMM_AT_NS,
        array_live + gemm + (8 << 20),
        2018,
        1990,
    );
    total.peak_at_ns = peak_ns;
    let pt = |t_ns: u64, v: [u64; 3], reason: PointReason| TimelinePoint {
        t_ns,
        live_bytes: v.to_vec(),
        reason,
    };
    let timeline = Timeline {
        tags: vec![0, 1, 2],
        points: vec![
            pt(0, [0, 0, 0], PointReason::Interval),
            pt(50_000_000, [1 << 20, 0, 0], PointReason::Churn),
            pt(100_000_000, [small, CAPACITY, 0], PointReason::Churn),
            pt(150_000_000, [small, array_live, 0], PointReason::Churn),
            pt(600_000_000, [small, array_live, 0], PointReason::Interval),
            pt(1_150_000_000, [small, array_live, 0], PointReason::Mark),
            pt(GEMM_AT_NS, [small, array_live, gemm], PointReason::Churn),
            pt(1_500_000_000, [small, array_live, gemm], PointReason::Final),
        ],
        dropped_points: 0,
        marks: vec![
            Mark {
                t_ns: 100_000_000,
                label: "load".into(),
            },
            Mark {
                t_ns: 1_150_000_000,
                label: "first matmul".into(),
            },
        ],
    };
    let native = pinned_native(
        total_live,
        total_live + 200_000 + (2 << 20) + (12 << 20),
        &timeline,
    );
    Snapshot {
        meta: Meta {
            program: "demo_app".into(),
            pid: 4242,
            unix_ms: 1_763_700_000_000,
            elapsed_ns: 1_500_000_000,
            allocator: "jemalloc".into(),
            sampling: SamplingConfig {
                mode: SamplingMode::Bytes,
                mean_bytes: 512 << 10,
                threshold_bytes: 0,
            },
            writer_version: "0.1.0".into(),
        },
        tags,
        threads,
        total,
        timeline,
        heap,
        process: ProcessStats {
            rss_bytes: total_live + (40 << 20),
            peak_rss_bytes: total_live + (48 << 20),
            jemalloc: Some(JemallocStats {
                allocated: total_live + 200_000 + (1 << 20),
                active: total_live + 200_000 + (2 << 20),
                resident: total_live + 200_000 + (2 << 20) + (12 << 20),
                metadata: 6 << 20,
                retained: 64 << 20,
                mapped: total_live + (80 << 20),
            }),
        },
        overhead: Overhead {
            header_bytes_per_alloc: 8,
            live_header_bytes: 8 * 28,
            table_bytes: 2 << 20,
            internal_live_bytes: 200_000 - 8 * 28,
            backtraces_captured: 22,
            backtrace_ns: 900_000,
            snapshot_ns: 3_000_000,
        },
        registry: pinned_registry(),
        sections: vec![],
        native,
        code: CodeMap {
            mappings: vec![CodeMapping {
                start: 0x5555_5555_4000,
                limit: 0x5555_5560_0000,
                file_offset: 0x1000,
                path: "/usr/local/bin/demo_app".into(),
                build_id: "0123456789abcdef0123456789abcdef01234567".into(),
            }],
            frame_addresses: Vec::new(),
        },
        retention: pinned_retention(),
    }
}

/// The retention history of [`pinned_views`]: the worst moment is the
/// end's wasted arena, taken at 1.0 s, and the wasted series rises there.
pub fn pinned_retention() -> arenaprof_snapshot::RetentionHistory {
    // The registry's picture holds the wasted arenas only (arena 1).
    let mut registry = pinned_registry();
    registry.arenas.retain(|a| a.id == 1);
    registry.views.retain(|v| v.arena == 1);
    let (_, total) = crate::analysis::retention::analyze(&registry, 32, 1 << 20, &mut Vec::new());
    let p = |t_ns, wasted_bytes| arenaprof_snapshot::WastedPoint { t_ns, wasted_bytes };
    arenaprof_snapshot::RetentionHistory {
        tracked: true,
        worst: Some(arenaprof_snapshot::RetentionWorst {
            t_ns: 1_000_000_000,
            wasted_bytes: total.wasted_bytes,
            registry,
        }),
        wasted: vec![p(0, 0), p(1_000_000_000, total.wasted_bytes)],
        policy: String::new(),
    }
}

/// The mapping measurements of [`pinned_views`]: OpenBLAS (loaded at run
/// time, 16 threads, then lowered to 1) holds sixteen 128 MiB buffers, 4 MiB
/// of them resident; the ladder sums to the snapshot's RSS
/// (`tracked + 40 MiB`). `allocator_resident` is jemalloc's `resident`.
pub fn pinned_native(tracked: u64, allocator_resident: u64, tl: &Timeline) -> NativeMemory {
    use arenaprof_snapshot::{
        BlasRuntime, BlasThreadChange, GroupKind, LadderRung, MappingGroup, NativeObject,
        ProcessPoint,
    };
    const MIB: u64 = 1 << 20;
    const OPENBLAS: &str = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";
    let rss = tracked + 40 * MIB;
    let beyond = allocator_resident - tracked;
    let (native, heap, stacks, code, prof, kernel) =
        (4 * MIB, 200_704, 606_208, 5 * MIB, MIB, 4096u64);
    let other = rss - tracked - beyond - native - heap - stacks - code - prof - kernel;
    let g = |kind, object: &str, mappings, virt: u64, res: u64, commit| MappingGroup {
        kind,
        object: object.to_owned(),
        mappings,
        virtual_bytes: virt,
        resident_bytes: res,
        private_bytes: res,
        anonymous_bytes: if kind == GroupKind::Library || kind == GroupKind::Binary {
            0
        } else {
            res
        },
        swap_bytes: 0,
        commit_bytes: commit,
    };
    let groups = vec![
        g(
            GroupKind::ThreadStacks,
            "",
            33,
            120 * MIB,
            stacks,
            120 * MIB,
        ),
        g(GroupKind::Binary, "", 4, 2 * MIB, MIB, 64 << 10),
        g(
            GroupKind::Library,
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
            8,
            35 * MIB,
            2 * MIB,
            188 << 10,
        ),
        g(
            GroupKind::Library,
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            6,
            2 * MIB,
            2 * MIB,
            76 << 10,
        ),
        g(GroupKind::Profiler, "", 3, 4 * MIB, prof, 4 * MIB),
        g(
            GroupKind::MappedBy,
            OPENBLAS,
            16,
            2048 * MIB,
            native,
            2048 * MIB,
        ),
        g(GroupKind::Heap, "", 1, 876 << 10, heap, 876 << 10),
        g(
            GroupKind::OtherAnonymous,
            "",
            6,
            tracked + 200 * MIB,
            other + allocator_resident,
            tracked + 200 * MIB,
        ),
        g(GroupKind::Kernel, "", 4, 36 << 10, kernel, 0),
    ];
    let vm: u64 = groups.iter().map(|x| x.virtual_bytes).sum();
    let rung = |key: &str, name: &str, bytes| LadderRung {
        key: key.into(),
        name: name.into(),
        bytes,
    };
    let series = tl
        .points
        .iter()
        .map(|p| {
            let live: u64 = p.live_bytes.iter().sum();
            let blas = if p.t_ns >= GEMM_AT_NS { 2048 * MIB } else { 0 };
            ProcessPoint {
                t_ns: p.t_ns,
                vm_size_bytes: vm - 2048 * MIB - tracked + live + blas,
                rss_bytes: 30 * MIB + live,
            }
        })
        .collect();
    NativeMemory {
        measured: true,
        notes: vec![],
        vm_size_bytes: vm,
        rss_bytes: rss,
        vmas: 90,
        groups,
        ladder: vec![
            rung("tracked", "tracked (live allocations)", tracked),
            rung(
                "allocator_beyond_tracked",
                "allocator beyond tracked (headers, fragmentation, caches)",
                beyond,
            ),
            rung("native_mapped", "native libraries' mappings (attributed)", native),
            rung("c_heap", "[heap] (brk: C malloc)", heap),
            rung("other_anonymous", "other anonymous", other),
            rung("thread_stacks", "thread stacks", stacks),
            rung("code_and_data", "binary and shared libraries (code, data)", code),
            rung("other_files", "other mapped files", 0),
            rung("profiler_tables", "profiler tables", prof),
            rung("kernel", "kernel ([vdso], [vvar])", kernel),
        ],
        mappings_rss_bytes: rss,
        allocator_source: "allocator's resident figure, carved from anonymous memory".into(),
        tracked_not_resident_bytes: 0,
        hooks_installed: true,
        objects: vec![NativeObject {
            path: OPENBLAS.into(),
            live_mappings: 16,
            live_bytes: 2048 * MIB,
            resident_bytes: native,
            peak_bytes: 2048 * MIB,
            mmap_calls: 15,
            adopted: 1,
            ..Default::default()
        }],
        series,
        blas: vec![BlasRuntime {
            api: "openblas".into(),
            library: OPENBLAS.into(),
            version: Some("0.3.21".into()),
            config: Some("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".into()),
            threading_layer: "pthreads".into(),
            architecture: Some("Haswell".into()),
            threads: 1,
            buffers_known: true,
            buffer_size_bytes: 128 * MIB,
            buffers_mapped: 16,
            buffers_virtual_bytes: 2048 * MIB,
            buffers_resident_bytes: native,
        }],
        blas_notes: vec![
            "skipped /usr/lib/x86_64-linux-gnu/libblas.so.3: missing openblas_get_num_threads/openblas_set_num_threads, bli_thread_get_num_threads/bli_thread_set_num_threads".into(),
        ],
        blas_changes: vec![BlasThreadChange {
            api: "openblas".into(),
            library: OPENBLAS.into(),
            previous: 16,
            now: 1,
            mapped_before: Some(2048 * MIB),
            mapped_after: Some(2048 * MIB),
        }],
        measure_ns: 1_600_000,
    }
}

/// [`pinned_views`] after the fix: the retaining view was made with
/// `to_owned()`, so the big arena is gone and a new 80-byte arena owns the
/// ten elements.
pub fn fixed_views() -> Snapshot {
    let mut s = pinned_views();
    let reg = &mut s.registry;
    reg.arenas.retain(|a| a.id != 1);
    reg.views.retain(|v| v.arena != 1);
    reg.arenas.push(ArenaRecord {
        id: 3,
        capacity_bytes: VIEW_BYTES,
        elem_type: "i64".into(),
        elem_size: 8,
        shape: vec![10],
        site: site(14, 32),
        op: "to_owned".into(),
        thread: 0,
        created_ns: 130_000_000,
        owner_alive: true,
    });
    reg.views.push(ViewRecord {
        id: 6,
        arena: 3,
        parent: None,
        op: "to_owned".into(),
        site: site(14, 32),
        alive: true,
        is_owner: true,
        layout: layout(0, &[10], &[1]),
        created_ns: 130_000_000,
        thread: 0,
    });
    s.tags[1].counters.live_bytes = 64 * 64 * 8 + VIEW_BYTES;
    s.total.live_bytes = s.tags.iter().map(|t| t.counters.live_bytes).sum();
    // Fixed, the run never wasted anything.
    s.retention = arenaprof_snapshot::RetentionHistory {
        tracked: true,
        ..Default::default()
    };
    s
}

/// A large snapshot for speed measurements: `samples` sampled records over
/// 10,000 stacks and `views` views (one live slice per arena, derived
/// through a dropped parent; one arena per four views), with 4,096
/// timeline points. Deterministic.
pub fn large(samples: usize, views: usize) -> Snapshot {
    let mut s = pinned_views();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let nframes = 2_000u32;
    s.heap.frames = (0..nframes)
        .map(|i| {
            frame(
                &format!("bench_app::module_{}::function_{i}", i % 50),
                "src/lib.rs",
                i,
            )
        })
        .collect();
    s.heap.stacks = (0..10_000)
        .map(|_| Stack {
            frames: (0..12).map(|_| (rnd() % nframes as u64) as u32).collect(),
        })
        .collect();
    s.heap.samples = (0..samples)
        .map(|i| {
            let size = 16 << (rnd() % 16);
            Sample {
                stack: (rnd() % 10_000) as u32,
                tag: (rnd() % 3) as u16,
                thread: (rnd() % 16) as u32,
                size,
                weight: 1.0 / (1.0 - (-(size as f64) / 524_288.0).exp()),
                alloc_ns: i as u64 * 1000,
                free_ns: (rnd() % 2 == 0).then_some(i as u64 * 1000 + 500),
            }
        })
        .collect();
    s.heap.at_peak = s.heap.live_at(samples as u64 * 500);
    let arenas = views.div_ceil(4).max(1);
    s.registry.arenas = (0..arenas as u64)
        .map(|id| ArenaRecord {
            id: id + 10,
            capacity_bytes: 8 * 4096,
            elem_type: "f64".into(),
            elem_size: 8,
            shape: vec![64, 64],
            site: site(40, 9),
            op: "zeros".into(),
            thread: 0,
            created_ns: id,
            owner_alive: id % 2 == 0,
        })
        .collect();
    s.registry.views = (0..views as u64)
        .map(|v| {
            let arena = v / 4 + 10;
            let k = v % 4;
            let owner = k == 0;
            ViewRecord {
                id: v + 100,
                arena,
                parent: (!owner).then_some(v + 100 - 1),
                op: if owner {
                    "zeros".into()
                } else {
                    format!("slice[{k}, ..]")
                },
                site: site(40 + k as u32, 9),
                alive: if owner { arena % 2 == 0 } else { k != 2 },
                is_owner: owner,
                layout: if owner {
                    layout(0, &[64, 64], &[64, 1])
                } else if k == 3 {
                    layout(k as i64, &[64], &[64])
                } else {
                    layout(64 * k as i64, &[64], &[1])
                },
                created_ns: v,
                thread: 0,
            }
        })
        .collect();
    s.registry.views_created = views as u64;
    s.registry.arenas_created = arenas as u64;
    let ncol = s.timeline.tags.len();
    s.timeline.points = (0..4096u64)
        .map(|i| TimelinePoint {
            t_ns: i * 1_000_000,
            live_bytes: (0..ncol)
                .map(|c| (i * (c as u64 + 1) * 4096) % (64 << 20))
                .collect(),
            reason: PointReason::Churn,
        })
        .collect();
    s
}
