//! The executable segments and build IDs read in memory match the files:
//! the test binary's build ID is the one its ELF file carries.

#[test]
fn the_executables_build_id_is_the_one_in_its_file() {
    let segs = arenaprof_native::code::segments();
    let exe = std::env::current_exe().unwrap();
    let exe = exe.display().to_string();
    let mine: Vec<_> = segs.iter().filter(|s| s.path == exe).collect();
    assert!(!mine.is_empty(), "{exe} not among {segs:?}");
    // This function's code lies in one of the executable's segments.
    let here = the_executables_build_id_is_the_one_in_its_file as *const () as usize as u64;
    assert!(mine.iter().any(|s| s.start <= here && here < s.limit));
    let id = &mine[0].build_id;
    assert!(id.len() >= 16 && id.len() % 2 == 0, "{id:?}");
    let bytes: Vec<u8> = (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).unwrap())
        .collect();
    // The note in the file: "GNU\0" followed by the ID.
    let file = std::fs::read(&exe).unwrap();
    let mut note = b"GNU\0".to_vec();
    note.extend_from_slice(&bytes);
    assert!(
        file.windows(note.len()).any(|w| w == note.as_slice()),
        "build ID {id} not in {exe}"
    );
    // Shared libraries have their own segments (libc at least).
    assert!(segs.iter().any(|s| s.path.contains("libc")), "{segs:?}");
}
