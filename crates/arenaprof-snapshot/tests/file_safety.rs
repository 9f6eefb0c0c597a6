//! Writing and reading snapshot files safely: planted symbolic links are
//! never followed, concurrent writers to one path always leave one complete
//! snapshot, and readers accept regular files of bounded size only (a FIFO
//! or `/dev/zero` is refused at once).

mod common;
use arenaprof_snapshot::{read_input, write_atomic, AtomicFile};
use arenaprof_snapshot::{FormatError, Snapshot, MAX_INPUT_BYTES};
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::{Arc, Barrier};

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn planted_symlinks_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let victim_dir = elsewhere.path().join("victim-dir");
    std::fs::create_dir(&victim_dir).unwrap();
    let path = dir.path().join("run.arenaprof");
    // The old writer's predictable temporary name, and the final name itself.
    let legacy = dir
        .path()
        .join(format!(".run.arenaprof.tmp.{}", std::process::id()));
    symlink(&victim, &legacy).unwrap();
    symlink(&victim, &path).unwrap();
    // Dangling links and links to a directory at names of the new pattern.
    for i in 0..50 {
        symlink(
            elsewhere.path().join(format!("nothing-{i}")),
            dir.path().join(format!(".run.arenaprof.{i:06}.tmp")),
        )
        .unwrap();
        symlink(
            &victim_dir,
            dir.path().join(format!(".run.arenaprof.d{i:05}.tmp")),
        )
        .unwrap();
    }
    let before = names(dir.path());
    let snap = common::rich();
    for _ in 0..20 {
        snap.write(&path).unwrap();
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
    assert_eq!(names(elsewhere.path()), ["victim", "victim-dir"]);
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the final name is a regular file"
    );
    assert_eq!(Snapshot::read(&path).unwrap(), snap);
    // Every planted link is still there, unchanged; nothing else was left.
    assert_eq!(names(dir.path()), before);
    assert_eq!(std::fs::read_link(&legacy).unwrap(), victim);
}

#[test]
fn a_symlink_to_a_directory_at_the_final_name_is_replaced_not_entered() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target-dir");
    std::fs::create_dir(&target).unwrap();
    let path = dir.path().join("out.arenaprof");
    symlink(&target, &path).unwrap();
    Snapshot::default().write(&path).unwrap();
    assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
}

#[test]
fn eight_concurrent_writers_always_leave_one_complete_snapshot() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("shared.arenaprof"));
    // Eight different snapshots of different sizes.
    let snaps: Arc<Vec<Snapshot>> = Arc::new(
        (0..THREADS)
            .map(|i| {
                let mut s = common::rich();
                s.meta.program = format!("writer-{i}");
                s.meta.pid = i as u32;
                s.sections[0]
                    .entries
                    .extend((0..i * 500).map(|k| (format!("k{k}"), "v".repeat(i * 3))));
                s
            })
            .collect(),
    );
    let start = Arc::new(Barrier::new(THREADS + 1));
    let done = Arc::new(Barrier::new(THREADS + 1));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let (path, snaps, start, done) =
                (path.clone(), snaps.clone(), start.clone(), done.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for _ in 0..ROUNDS {
                    start.wait();
                    if let Err(e) = snaps[i].write(&*path) {
                        failures.push(e.to_string());
                    }
                    done.wait();
                }
                failures
            })
        })
        .collect();
    for round in 0..ROUNDS {
        start.wait();
        done.wait();
        let got = Snapshot::read(&*path)
            .unwrap_or_else(|e| panic!("round {round}: the final file is not a snapshot: {e}"));
        assert!(
            snaps.contains(&got),
            "round {round}: the final file is not one of the written snapshots"
        );
        assert_eq!(names(dir.path()), ["shared.arenaprof"], "round {round}");
    }
    for h in handles {
        let failures = h.join().unwrap();
        assert!(failures.is_empty(), "writes failed: {failures:?}");
    }
}

#[test]
fn a_reader_never_sees_a_partial_file_while_writers_replace_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("live.arenaprof"));
    let big = {
        let mut s = common::rich();
        s.sections[0]
            .entries
            .extend((0..20_000).map(|k| (format!("key{k}"), "value".into())));
        s
    };
    let small = common::rich();
    small.write(&*path).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            for i in 0..200 {
                let s = if i % 2 == 0 { &big } else { &small };
                s.write(&*path).unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::Release);
        })
    };
    let mut reads = 0;
    while !stop.load(std::sync::atomic::Ordering::Acquire) {
        Snapshot::read(&*path).expect("every read sees a whole snapshot");
        reads += 1;
    }
    writer.join().unwrap();
    assert!(reads > 0);
}

#[test]
fn output_files_keep_the_usual_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perm.txt");
    write_atomic(&path, b"x").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    // 0666 less the umask: readable by the owner and writable by the owner.
    assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    assert_eq!(mode & 0o111, 0, "{mode:o}");
}

#[test]
fn an_uncommitted_file_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.txt");
    {
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"half").unwrap();
        assert_eq!(names(dir.path()).len(), 1);
    }
    assert!(names(dir.path()).is_empty());
    // A directory at the final name: the rename fails, the temporary goes.
    std::fs::create_dir(&path).unwrap();
    let err = write_atomic(&path, b"x").unwrap_err();
    assert!(matches!(err, FormatError::Io(..)), "{err}");
    assert_eq!(names(dir.path()), ["never.txt"]);
}

#[test]
fn readers_refuse_fifos_devices_directories_and_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    // Nobody writes to the FIFO: a blocking open would hang here forever.
    let err = Snapshot::read(&fifo).unwrap_err().to_string();
    assert!(err.contains("not a regular file (a FIFO)"), "{err}");
    let err = Snapshot::read("/dev/zero").unwrap_err().to_string();
    assert!(
        err.contains("not a regular file (a character device)"),
        "{err}"
    );
    let err = Snapshot::read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("not a regular file (a directory)"), "{err}");
    // A sparse file just past the limit is refused without being read.
    let big = dir.path().join("big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_INPUT_BYTES + 1)
        .unwrap();
    let err = Snapshot::read(&big).unwrap_err().to_string();
    assert!(err.contains("input limit"), "{err}");
    // The limit is inclusive.
    let small = dir.path().join("small");
    std::fs::write(&small, b"12345").unwrap();
    assert_eq!(read_input(&small, 5).unwrap(), b"12345");
    assert!(read_input(&small, 4).is_err());
    // A symbolic link to a regular file is fine for reading.
    let link = dir.path().join("link");
    symlink(&small, &link).unwrap();
    assert_eq!(read_input(&link, 5).unwrap(), b"12345");
}
