//! A snapshot with every field populated, shared by the format tests.
#![allow(dead_code)]

use arenaprof_snapshot::*;

pub fn rich() -> Snapshot {
    let site = |line| Site {
        file: "src/main.rs".into(),
        line,
        col: 5,
    };
    let c = Counters {
        live_bytes: 1 << 20,
        peak_bytes: 3 << 20,
        peak_at_ns: 1_200_000_000,
        allocated_bytes: u64::MAX / 3,
        freed_bytes: 7,
        alloc_count: 11,
        free_count: 4,
        realloc_count: 2,
        failed_count: 1,
    };
    let h = Histogram {
        buckets: vec![(8, 3), (1 << 20, 1)],
        percentiles: vec![(50.0, 8), (99.9, 1 << 20)],
    };
    Snapshot {
        meta: Meta {
            program: "ünïcode-prog".into(),
            pid: 42,
            unix_ms: 1_763_700_000_000,
            elapsed_ns: 5,
            allocator: "jemalloc".into(),
            sampling: SamplingConfig {
                mode: SamplingMode::Bytes,
                mean_bytes: 512 << 10,
                threshold_bytes: 0,
            },
            writer_version: "0.1.0".into(),
        },
        tags: vec![TagStats {
            id: 2,
            name: "gemm-workspace".into(),
            counters: c,
            sizes: h.clone(),
            lifetimes_ns: h,
        }],
        threads: vec![ThreadStats {
            slot: 0,
            name: "main".into(),
            os_tid: 99,
            alive: true,
            counters: c,
            tags: vec![ThreadTagStats {
                tag: 2,
                counters: c,
            }],
        }],
        total: c,
        timeline: Timeline {
            tags: vec![2],
            points: vec![TimelinePoint {
                t_ns: 1,
                live_bytes: vec![5],
                reason: PointReason::Mark,
            }],
            dropped_points: 3,
            marks: vec![Mark {
                t_ns: 1,
                label: "first matmul".into(),
            }],
        },
        heap: HeapProfile {
            frames: vec![Frame {
                function: "main".into(),
                file: "src/main.rs".into(),
                line: 3,
            }],
            stacks: vec![Stack { frames: vec![0] }],
            samples: vec![Sample {
                stack: 0,
                tag: 2,
                thread: 0,
                size: 4096,
                weight: 1.5,
                alloc_ns: 2,
                free_ns: Some(9),
            }],
            at_peak: vec![StackBytes {
                stack: 0,
                bytes: 6144.0,
                objects: 1.5,
            }],
        },
        process: ProcessStats {
            rss_bytes: 10 << 20,
            peak_rss_bytes: 11 << 20,
            jemalloc: Some(JemallocStats {
                allocated: 1,
                active: 2,
                resident: 3,
                metadata: 4,
                retained: 5,
                mapped: 6,
            }),
        },
        overhead: Overhead {
            header_bytes_per_alloc: 8,
            live_header_bytes: 56,
            table_bytes: 1 << 16,
            internal_live_bytes: 100,
            backtraces_captured: 1,
            backtrace_ns: 1000,
            snapshot_ns: 2000,
        },
        registry: Registry {
            arenas: vec![ArenaRecord {
                id: 1,
                capacity_bytes: 800,
                elem_type: "f64".into(),
                elem_size: 8,
                shape: vec![10, 10],
                site: site(10),
                op: "arange".into(),
                thread: 0,
                created_ns: 1,
                owner_alive: false,
            }],
            views: vec![ViewRecord {
                id: 2,
                arena: 1,
                parent: Some(1),
                op: "slice[..10]".into(),
                site: site(12),
                alive: true,
                is_owner: false,
                layout: Layout {
                    offset: -3,
                    shape: vec![10],
                    strides: vec![-1],
                    elem_size: 8,
                },
                created_ns: 2,
                thread: 0,
            }],
            cow: vec![CowRecord {
                from_arena: 1,
                to_arena: 3,
                bytes: 80,
                site: site(14),
                t_ns: 3,
            }],
            arenas_created: 3,
            views_created: 4,
        },
        sections: vec![Section {
            name: "gemm".into(),
            entries: vec![("threads".into(), "2".into())],
        }],
        native: NativeMemory {
            measured: true,
            notes: vec!["hooks installed".into()],
            vm_size_bytes: 2 << 30,
            rss_bytes: 40 << 20,
            vmas: 96,
            groups: vec![
                MappingGroup {
                    kind: GroupKind::MappedBy,
                    object: "/lib/libopenblas.so.0".into(),
                    mappings: 16,
                    virtual_bytes: 2 << 30,
                    resident_bytes: 4 << 20,
                    private_bytes: 4 << 20,
                    anonymous_bytes: 4 << 20,
                    swap_bytes: 0,
                    commit_bytes: 2 << 30,
                },
                MappingGroup {
                    kind: GroupKind::ThreadStacks,
                    mappings: 33,
                    virtual_bytes: 120 << 20,
                    resident_bytes: 592 << 10,
                    ..Default::default()
                },
            ],
            ladder: vec![LadderRung {
                key: "tracked".into(),
                name: "tracked (live allocations)".into(),
                bytes: 1 << 20,
            }],
            mappings_rss_bytes: 40 << 20,
            allocator_source: "allocator ranges".into(),
            tracked_not_resident_bytes: 0,
            hooks_installed: true,
            objects: vec![NativeObject {
                path: "/lib/libopenblas.so.0".into(),
                live_mappings: 16,
                live_bytes: 2 << 30,
                resident_bytes: 4 << 20,
                peak_bytes: 2 << 30,
                mmap_calls: 16,
                adopted: 1,
                ..Default::default()
            }],
            series: vec![ProcessPoint {
                t_ns: 10,
                vm_size_bytes: 52 << 20,
                rss_bytes: 5 << 20,
            }],
            blas: vec![BlasRuntime {
                api: "openblas".into(),
                library: "/lib/libopenblas.so.0".into(),
                version: Some("0.3.21".into()),
                config: None,
                threading_layer: "pthreads".into(),
                architecture: Some("Haswell".into()),
                threads: 16,
                buffers_known: true,
                buffer_size_bytes: 128 << 20,
                buffers_mapped: 16,
                buffers_virtual_bytes: 2 << 30,
                buffers_resident_bytes: 4 << 20,
            }],
            blas_notes: vec!["skipped /lib/libblas.so.3: missing x".into()],
            blas_changes: vec![BlasThreadChange {
                api: "openblas".into(),
                library: "/lib/libopenblas.so.0".into(),
                previous: 16,
                now: 1,
                mapped_before: Some(2 << 30),
                mapped_after: Some(2 << 30),
            }],
            measure_ns: 1_600_000,
        },
        code: CodeMap {
            mappings: vec![CodeMapping {
                start: 0x40_0000,
                limit: 0x48_0000,
                file_offset: 0,
                path: "/opt/ünïcode/prog".into(),
                build_id: "deadbeef".into(),
            }],
            frame_addresses: vec![0x40_1234, 0],
        },
        retention: RetentionHistory {
            tracked: true,
            worst: Some(RetentionWorst {
                t_ns: 7,
                wasted_bytes: 720,
                registry: Registry {
                    arenas: vec![ArenaRecord {
                        id: 1,
                        capacity_bytes: 800,
                        op: "arange".into(),
                        ..Default::default()
                    }],
                    arenas_created: 1,
                    ..Default::default()
                },
            }),
            wasted: vec![
                WastedPoint {
                    t_ns: 7,
                    wasted_bytes: 720,
                },
                WastedPoint {
                    t_ns: 9,
                    wasted_bytes: 0,
                },
            ],
            policy: "a new worst when wasted bytes pass the last by 1/16".into(),
        },
    }
}
