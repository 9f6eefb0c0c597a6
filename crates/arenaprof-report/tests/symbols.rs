//! Symbolising a snapshot's return addresses from the binaries
//! (`arenaprof_report::symbols`): a function of this test binary is named
//! from its DWARF when the build ID matches, and nothing is read, or
//! blocks, when the snapshot names a file that is not the one that ran.
#![cfg(feature = "symbols")]

use arenaprof_report::symbols::resolve;
use arenaprof_snapshot::*;

#[inline(never)]
fn marker_function_for_symbols() -> u64 {
    std::hint::black_box(7)
}

/// The marker function's address.
fn marker() -> u64 {
    marker_function_for_symbols as *const () as usize as u64
}

/// The executable mapping of this process that holds `addr`, from
/// `/proc/self/maps`, with the build ID of its file.
fn mapping_of(addr: u64) -> CodeMapping {
    use object::Object;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (s, l) = f[0].split_once('-').unwrap();
        let (start, limit) = (
            u64::from_str_radix(s, 16).unwrap(),
            u64::from_str_radix(l, 16).unwrap(),
        );
        if start <= addr && addr < limit && f[1].contains('x') {
            let path = f[5].to_owned();
            let data = std::fs::read(&path).unwrap();
            let id = object::File::parse(&*data)
                .unwrap()
                .build_id()
                .unwrap()
                .expect("the test binary has a build ID");
            return CodeMapping {
                start,
                limit,
                file_offset: u64::from_str_radix(f[2], 16).unwrap(),
                path,
                build_id: id.iter().map(|b| format!("{b:02x}")).collect(),
            };
        }
    }
    panic!("{addr:#x} is in no executable mapping");
}

/// A snapshot whose one stack is one return address just past the start
/// of the marker function, left to the report tool.
fn pending(mapping: CodeMapping) -> (Snapshot, u64) {
    let ret = marker() + 1;
    let mut s = Snapshot::default();
    s.code.mappings.push(mapping);
    s.code.frame_addresses.push(ret);
    s.heap.frames.push(Frame {
        function: address_name(ret),
        ..Default::default()
    });
    s.heap.stacks.push(Stack { frames: vec![0] });
    s.sections.push(Section {
        name: SYMBOLS_SECTION.to_owned(),
        entries: vec![("resolved_by".to_owned(), RESOLVED_BY_REPORT.to_owned())],
    });
    (s, ret)
}

fn entries(s: &Snapshot) -> Vec<(String, String)> {
    s.sections
        .iter()
        .find(|x| x.name == SYMBOLS_SECTION)
        .unwrap()
        .entries
        .clone()
}

#[test]
fn names_a_function_of_this_binary_from_its_dwarf() {
    assert_eq!(marker_function_for_symbols(), 7);
    let (mut s, ret) = pending(mapping_of(marker()));
    let done = resolve(&mut s);
    assert_eq!((done.addresses, done.named, done.objects), (1, 1, 1));
    let frames: Vec<&Frame> = s.heap.stacks[0]
        .frames
        .iter()
        .map(|&f| &s.heap.frames[f as usize])
        .collect();
    assert!(
        frames[0].function.ends_with("marker_function_for_symbols"),
        "{frames:?}"
    );
    assert!(frames[0].file.ends_with("symbols.rs"), "{frames:?}");
    assert!(frames[0].line > 0);
    assert_eq!(
        s.code.frame_addresses[s.heap.stacks[0].frames[0] as usize],
        ret
    );
    assert_eq!(
        entries(&s)[0].1,
        "report: 1 of 1 addresses named from the debug information of 1 objects"
    );
}

#[test]
fn a_file_with_another_build_id_is_not_used() {
    let mut m = mapping_of(marker());
    m.build_id = "00".repeat(20);
    let (mut s, ret) = pending(m);
    let done = resolve(&mut s);
    assert_eq!((done.addresses, done.named, done.objects), (1, 0, 0));
    assert_eq!(s.heap.frames[0].function, address_name(ret));
    let e = entries(&s);
    assert!(
        e.iter()
            .any(|(k, v)| k == "unresolved" && v.contains("rebuilt since the run")),
        "{e:?}"
    );
}

#[test]
fn fifos_missing_files_and_non_objects_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let text = dir.path().join("text");
    std::fs::write(&text, b"not an ELF file").unwrap();
    let real = mapping_of(marker());
    for (path, why) in [
        (fifo.display().to_string(), "not a regular file"),
        ("/nonexistent/binary".to_owned(), "cannot read the binary"),
        (text.display().to_string(), "not an object file"),
        ("/dev/zero".to_owned(), "not a regular file"),
    ] {
        let (mut s, ret) = pending(CodeMapping {
            path: path.clone(),
            ..real.clone()
        });
        let done = resolve(&mut s);
        assert_eq!(done.named, 0, "{path}");
        assert_eq!(s.heap.frames[0].function, address_name(ret));
        let e = entries(&s);
        assert!(
            e.iter().any(|(k, v)| k == "unresolved" && v.contains(why)),
            "{path}: {e:?}"
        );
    }
}

#[test]
fn snapshots_symbolised_in_their_program_are_left_alone() {
    let (mut s, _) = pending(mapping_of(marker()));
    s.sections[0].entries[0].1 = "program (ARENAPROF_SYMBOLS=program)".to_owned();
    let before = s.clone();
    assert_eq!(resolve(&mut s).addresses, 0);
    assert_eq!(s, before);
    // Older snapshots have no symbols section at all.
    s.sections.clear();
    let before = s.clone();
    resolve(&mut s);
    assert_eq!(s, before);
}

#[test]
fn a_crafted_file_offset_names_nothing_and_does_not_overflow() {
    let mut m = mapping_of(marker());
    m.file_offset = u64::MAX - 1;
    let (mut s, ret) = pending(m);
    let done = resolve(&mut s);
    assert_eq!((done.addresses, done.named, done.objects), (1, 0, 1));
    assert_eq!(s.heap.frames[0].function, address_name(ret));
}
