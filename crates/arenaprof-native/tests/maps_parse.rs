//! smaps/maps/smaps_rollup/statm parsing against fixtures (with odd lines),
//! grouping and the ladder on them, and the same readers on this process.
#![allow(clippy::single_range_in_vec_init)] // one range per kind is what the fixture has

use arenaprof_native::maps::{self, Group, Known, Perms, Split, VmaName};

const SMAPS: &str = include_str!("fixtures/smaps.txt");
const MAPS: &str = include_str!("fixtures/maps.txt");
const ROLLUP: &str = include_str!("fixtures/smaps_rollup.txt");
const STATM: &str = include_str!("fixtures/statm.txt");
const K: u64 = 1024;
const OPENBLAS: &str = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";

#[test]
fn fixture_smaps_parses_every_mapping_and_skips_odd_lines() {
    let s = maps::parse_smaps(SMAPS);
    assert_eq!(s.vmas.len(), 19);
    assert_eq!(
        s.skipped_lines, 4,
        "garbage, Odd_Field, overflowing Rss, truncated header"
    );
    assert!(!s.truncated);
    let v = &s.vmas[0];
    assert_eq!((v.start, v.end), (0x5555_0000_0000, 0x5555_0000_2000));
    assert_eq!(
        v.perms,
        Perms {
            read: true,
            write: false,
            exec: false,
            shared: false
        }
    );
    assert_eq!(v.name, Some(VmaName::File("/usr/bin/demo".into())));
    assert_eq!((v.rss, v.private_clean, v.inode), (8 * K, 8 * K, 100));
    assert!(!v.accounted && v.has_flags);
    // The mapping followed by an overflowing `Rss:` keeps its good value.
    assert_eq!(s.vmas[5].rss, 512 * K);
    assert_eq!(s.vmas[6].swap, 64 * K);
    assert!(s.vmas[6].accounted);
    assert_eq!(s.vmas[4].name, Some(VmaName::Heap));
    assert_eq!(s.vmas[13].name, Some(VmaName::File("/dev/shm/data".into())));
    assert!(s.vmas[13].deleted && s.vmas[13].perms.shared);
    assert_eq!(
        s.vmas[14].name,
        Some(VmaName::Named("[anon:arenaprof tables]".into()))
    );
    assert!(s.vmas[15].grows_down);
    assert_eq!(s.vmas[16].name, Some(VmaName::Vvar));
    assert_eq!(s.vmas[18].end, 0xffff_ffff_ff60_1000);
    let rollup = maps::parse_smaps_rollup(ROLLUP);
    assert_eq!(s.rss(), rollup.rss);
    assert_eq!(
        s.vmas.iter().map(|v| v.anonymous).sum::<u64>(),
        rollup.anonymous
    );
    assert_eq!(
        s.vmas.iter().map(|v| v.private_dirty).sum::<u64>(),
        rollup.private_dirty
    );
}

#[test]
fn fixture_maps_headers_only() {
    let m = maps::parse_smaps(MAPS);
    let s = maps::parse_smaps(SMAPS);
    assert_eq!(m.vmas.len(), s.vmas.len());
    assert_eq!(m.skipped_lines, 0);
    for (a, b) in m.vmas.iter().zip(&s.vmas) {
        assert_eq!(
            (a.start, a.end, a.perms, a.inode, &a.name),
            (b.start, b.end, b.perms, b.inode, &b.name)
        );
        assert_eq!((a.rss, a.has_flags), (0, false));
    }
}

#[test]
fn fixture_rollup_and_statm() {
    let r = maps::parse_smaps_rollup(ROLLUP);
    assert_eq!(
        (r.rss, r.pss, r.pss_anon, r.pss_file, r.swap),
        (4036 * K, 3500 * K, 2760 * K, 740 * K, 64 * K)
    );
    let st = maps::parse_statm(STATM, 4096).unwrap();
    assert_eq!(
        (st.size, st.resident, st.shared, st.text, st.data),
        (
            290000 * 4096,
            1009 * 4096,
            330 * 4096,
            3 * 4096,
            30000 * 4096
        )
    );
    assert_eq!(maps::parse_statm("", 4096), None);
    assert_eq!(maps::parse_statm("1 2 x", 4096), None);
}

#[test]
fn fixture_groups_and_ladder() {
    let s = maps::parse_smaps(SMAPS);
    let native = [(0x7f00_0000_0000..0x7f00_0800_0000, OPENBLAS)];
    let known = Known {
        allocator: &[0x7f00_0800_0000..0x7f00_1000_0000],
        profiler: &[0x7f31_0000_0000..0x7f31_0000_1000],
        native: &native,
        stack_pointers: &[],
        exe: Some("/usr/bin/demo"),
        split: Split::Proportional,
    };
    let g = maps::group(&s, &known);
    let rss = |grp: Group| g.get(&grp).resident_bytes;
    assert_eq!(rss(Group::Binary), (8 + 40 + 8 + 4) * K);
    assert_eq!(g.get(&Group::Binary).mappings, 4);
    assert_eq!(rss(Group::Heap), 100 * K);
    assert_eq!(rss(Group::NativeAnon(OPENBLAS.into())), 512 * K);
    assert_eq!(
        g.get(&Group::NativeAnon(OPENBLAS.into())).virtual_bytes,
        128 << 20
    );
    assert_eq!(rss(Group::Allocator), 2048 * K);
    assert_eq!(g.get(&Group::Allocator).swap_bytes, 64 * K);
    assert_eq!(rss(Group::ThreadStacks), (16 + 32) * K);
    assert_eq!(
        g.get(&Group::ThreadStacks).mappings,
        3,
        "guard, stack, [stack]"
    );
    let libc = Group::Library("/usr/lib/x86_64-linux-gnu/libc.so.6".into());
    assert_eq!(
        rss(libc.clone()),
        (160 + 1000 + 16 + 20) * K,
        "with its .bss"
    );
    assert_eq!(g.get(&libc).commit_bytes, 0x4000 + 0xd000);
    assert_eq!(rss(Group::OtherFile), 64 * K);
    assert_eq!(rss(Group::Profiler), 4 * K);
    assert_eq!(rss(Group::Kernel), 4 * K);
    assert_eq!(rss(Group::OtherAnon), 0);
    // Every byte lands in exactly one group.
    let sum = g.sum(|_| true);
    assert_eq!(sum.resident_bytes, g.total.resident_bytes);
    assert_eq!(sum.virtual_bytes, g.total.virtual_bytes);
    assert_eq!(sum.commit_bytes, g.total.commit_bytes);
    assert_eq!(g.total.resident_bytes, 4036 * K);

    let l = maps::ladder(&g, 1500 * K, None);
    assert_eq!(l.rungs.iter().map(|r| r.bytes).sum::<u64>(), l.rss);
    assert_eq!(l.rss, 4036 * K);
    assert_eq!(l.rungs[0].bytes, 1500 * K);
    assert_eq!(l.rungs[1].bytes, 548 * K);
    assert_eq!(l.tracked_not_resident, 0);
    // More tracked than the allocator has resident: the rest is outside.
    let l = maps::ladder(&g, 3 << 20, None);
    assert_eq!(l.rungs[0].bytes, 2048 * K);
    assert_eq!(l.tracked_not_resident, 1024 * K);
    assert_eq!(l.rungs.iter().map(|r| r.bytes).sum::<u64>(), l.rss);
}

#[test]
fn fixture_partial_claims_split_a_merged_mapping() {
    // The kernel merged an OpenBLAS buffer and allocator memory into one VMA.
    let s = maps::parse_smaps("7f0000000000-7f0000400000 rw-p 0 00:00 0\nRss: 1024 kB\nAnonymous: 1024 kB\nVmFlags: rd wr ac\n");
    let native = [(0x7f00_0000_0000..0x7f00_0010_0000, OPENBLAS)];
    let known = Known {
        native: &native,
        ..Default::default()
    };
    let g = maps::group(&s, &known);
    let n = g.get(&Group::NativeAnon(OPENBLAS.into()));
    let o = g.get(&Group::OtherAnon);
    assert_eq!((n.virtual_bytes, o.virtual_bytes), (1 << 20, 3 << 20));
    assert_eq!(n.resident_bytes + o.resident_bytes, 1024 * K);
    assert_eq!(n.resident_bytes, 256 * K);
    assert_eq!(n.commit_bytes + o.commit_bytes, 4 << 20);
    // No allocator ranges: its resident figure is carved from other anon.
    let l = maps::ladder(&g, 100 * K, Some(600 * K));
    assert_eq!(l.rungs[0].bytes + l.rungs[1].bytes, 600 * K);
    assert_eq!(l.rungs.iter().map(|r| r.bytes).sum::<u64>(), 1024 * K);
    // A hint larger than what is there is clamped.
    let l = maps::ladder(&g, 100 * K, Some(10 << 20));
    assert_eq!(l.rungs[0].bytes + l.rungs[1].bytes, 768 * K);
    assert_eq!(l.rungs.iter().map(|r| r.bytes).sum::<u64>(), 1024 * K);
}

#[test]
fn odd_inputs_never_panic() {
    let inputs = [
        "",
        "\n\n\n",
        "-",
        "ffffffffffffffffffff-0 rw-p 0 0:0 0",
        "2000-1000 rw-p 0 00:00 0",
        "1000-2000 rwxq 0 00:00 0",
        "1000-2000 rw-p zz 00:00 0",
        "1000-2000 rw-p 0 0000 0",
        "1000-2000 rw-p 0 00:00 -1",
        "Rss: 4 kB",
        "1000-2000 rw-p 0 00:00 0\nRss: 4 MB\nRss:\nVmFlags:\n:\n kB",
        "1000-2000 rw-p 0 00:00 0 \u{1F980} (deleted)\nRss: 18446744073709551615 kB",
    ];
    for t in inputs {
        let s = maps::parse_smaps(t);
        let g = maps::group(&s, &Known::default());
        let _ = maps::ladder(&g, u64::MAX, Some(u64::MAX));
        let _ = maps::parse_smaps_rollup(t);
        let _ = maps::parse_statm(t, 4096);
    }
    let s = maps::parse_smaps("1000-2000 rw-p 0 00:00 0\nRss: 18446744073709551615 kB\n");
    assert_eq!(s.vmas[0].rss, u64::MAX, "saturates");
}

#[test]
fn live_process_readers_agree() {
    // A thread parked in a syscall: its stack is found by stack pointer.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let parked = std::thread::spawn(move || rx.recv().ok());
    std::thread::sleep(std::time::Duration::from_millis(50));
    // 64 MiB anonymous, 16 MiB touched.
    let mut v = vec![0u8; 64 << 20];
    for i in (0..16 << 20).step_by(4096) {
        v[i] = 1;
    }
    let smaps = maps::read_smaps().unwrap();
    let rollup = maps::read_smaps_rollup().unwrap();
    let statm = maps::read_statm().unwrap();
    let plain = maps::read_maps().unwrap();
    assert_eq!(smaps.skipped_lines, 0);
    assert_eq!(plain.skipped_lines, 0);
    assert!(smaps.vmas.iter().all(|v| v.has_flags));
    let diff = smaps.rss().abs_diff(rollup.rss);
    assert!(
        diff < rollup.rss / 10,
        "smaps {} vs rollup {}",
        smaps.rss(),
        rollup.rss
    );
    assert!(
        statm.resident.abs_diff(rollup.rss) < rollup.rss / 5,
        "statm {} vs rollup {}",
        statm.resident,
        rollup.rss
    );
    assert!(statm.size >= smaps.virtual_bytes() / 2);
    let addr = v.as_ptr() as u64;
    let vma = smaps
        .vmas
        .iter()
        .find(|m| m.start <= addr && addr < m.end)
        .expect("vec's mapping");
    assert!(vma.rss >= 16 << 20 && vma.accounted && vma.is_anonymous());
    let touched = maps::resident_bytes(v.as_ptr() as usize, 16 << 20).unwrap();
    assert!(touched >= (16 << 20) - 4096, "{touched}");
    let untouched = maps::resident_bytes(v.as_ptr() as usize + (32 << 20), 16 << 20).unwrap();
    assert!(untouched < 4 << 20, "{untouched}");

    let sps = maps::thread_stack_pointers();
    let exe = std::fs::read_link("/proc/self/exe")
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let known = Known {
        stack_pointers: &sps,
        exe: Some(&exe),
        split: Split::Mincore,
        ..Default::default()
    };
    let g = maps::group(&smaps, &known);
    assert!(g.get(&Group::Binary).resident_bytes > 0);
    assert!(g.groups.iter().any(
        |(k, u)| matches!(k, Group::Library(p) if p.contains("libc.so")) && u.resident_bytes > 0
    ));
    assert!(
        g.get(&Group::ThreadStacks).mappings >= 2,
        "main and the parked thread"
    );
    assert_eq!(g.sum(|_| true), g.total);
    drop(tx);
    parked.join().unwrap();

    let pm = arenaprof_native::process_memory(&[], &[], 1 << 20, None).unwrap();
    assert_eq!(
        pm.ladder.rungs.iter().map(|r| r.bytes).sum::<u64>(),
        pm.ladder.rss
    );
    assert!(pm.smaps_ns > 0 && pm.vmas > 10);
    drop(v);
}
