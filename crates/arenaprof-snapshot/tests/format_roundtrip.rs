//! The snapshot file format: header layout, round trips, and every error.

mod common;
use arenaprof_snapshot::HEADER_LEN;
use arenaprof_snapshot::{FormatError, Snapshot, FORMAT_VERSION, MAGIC};

#[test]
fn default_and_rich_snapshots_round_trip() {
    for snap in [Snapshot::default(), common::rich()] {
        let bytes = snap.to_bytes().unwrap();
        assert_eq!(Snapshot::from_bytes(&bytes).unwrap(), snap);
        // Encoding is deterministic.
        assert_eq!(snap.to_bytes().unwrap(), bytes);
    }
}

#[test]
fn header_layout_is_as_documented() {
    let bytes = common::rich().to_bytes().unwrap();
    assert_eq!(&bytes[0..8], &MAGIC);
    assert_eq!(&bytes[0..8], b"ARENAPRF");
    assert_eq!(
        u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
        FORMAT_VERSION
    );
    assert_eq!(FORMAT_VERSION, 4);
    assert_eq!(
        u32::from_le_bytes(bytes[12..16].try_into().unwrap()),
        0,
        "flags"
    );
    let len = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    assert_eq!(len as usize, bytes.len() - HEADER_LEN);
    let crc = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    assert_eq!(crc, crc32fast::hash(&bytes[HEADER_LEN..]));
}

#[test]
fn files_round_trip_and_writes_leave_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.arenaprof");
    let snap = common::rich();
    snap.write(&path).unwrap();
    // Overwriting replaces the file whole.
    snap.write(&path).unwrap();
    assert_eq!(Snapshot::read(&path).unwrap(), snap);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["run.arenaprof"]);
    let err = Snapshot::read(dir.path().join("missing")).unwrap_err();
    assert!(matches!(err, FormatError::Io(..)));
    assert!(err.to_string().contains("missing"));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = common::rich().to_bytes().unwrap();
    for n in 0..bytes.len() {
        let err = Snapshot::from_bytes(&bytes[..n]).unwrap_err();
        assert!(
            matches!(err, FormatError::Truncated { .. }),
            "prefix of {n} bytes: {err}"
        );
    }
}

#[test]
fn trailing_bytes_wrong_magic_version_and_checksum() {
    let good = common::rich().to_bytes().unwrap();
    let mut long = good.clone();
    long.extend_from_slice(b"xyz");
    assert!(matches!(
        Snapshot::from_bytes(&long).unwrap_err(),
        FormatError::TrailingBytes(3)
    ));
    let mut magic = good.clone();
    magic[0] = b'X';
    let e = Snapshot::from_bytes(&magic).unwrap_err();
    assert!(matches!(e, FormatError::BadMagic));
    assert!(e.to_string().contains("not an arenaprof snapshot"));
    let mut version = good.clone();
    version[8..12].copy_from_slice(&5u32.to_le_bytes());
    let e = Snapshot::from_bytes(&version).unwrap_err();
    assert!(matches!(e, FormatError::UnsupportedVersion(5)));
    assert!(e.to_string().contains("version 5"));
    assert!(e.to_string().contains("versions 1 to 4"), "{e}");
    let mut zero = good.clone();
    zero[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert!(matches!(
        Snapshot::from_bytes(&zero).unwrap_err(),
        FormatError::UnsupportedVersion(0)
    ));
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let e = Snapshot::from_bytes(&flipped).unwrap_err();
    assert!(matches!(e, FormatError::ChecksumMismatch { .. }));
    assert!(e.to_string().contains("checksum"));
}

#[test]
fn a_checksummed_payload_that_claims_huge_counts_is_refused() {
    // Valid header and CRC around a payload whose first length prefix says
    // 2^63 elements: decoding must fail fast, without trying to allocate.
    let mut payload = vec![0u8];
    payload.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    let e = Snapshot::from_bytes(&bytes).unwrap_err();
    assert!(matches!(e, FormatError::Decode(_)), "{e}");
    // And a header that promises more payload than any file holds.
    let mut h = common::rich().to_bytes().unwrap();
    h[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Snapshot::from_bytes(&h).unwrap_err(),
        FormatError::Truncated { .. }
    ));
}

#[test]
fn version_1_files_still_read_without_the_native_section() {
    let snap = common::rich();
    assert!(
        snap.native.measured,
        "the rich snapshot has a native section"
    );
    let v1 = arenaprof_snapshot::to_bytes_v1(&snap).unwrap();
    assert_eq!(u32::from_le_bytes(v1[8..12].try_into().unwrap()), 1);
    let back = Snapshot::from_bytes(&v1).unwrap();
    let mut expect = snap.clone();
    expect.native = Default::default();
    expect.code = Default::default();
    expect.retention = Default::default();
    let notes = &back.native.notes;
    assert!(!back.native.measured);
    assert!(back.native.groups.is_empty() && back.native.blas.is_empty());
    assert!(notes[0].contains("format version 1"), "{notes:?}");
    let mut cleared = back.clone();
    cleared.native = Default::default();
    assert_eq!(cleared, expect);
    // A version-1 header in front of a version-2 payload leaves bytes over
    // (the native section), and the reverse ends early: both are errors.
    let mut v2_as_v1 = arenaprof_snapshot::to_bytes_v2(&snap).unwrap();
    v2_as_v1[8..12].copy_from_slice(&1u32.to_le_bytes());
    assert!(Snapshot::from_bytes(&v2_as_v1).is_err());
    let mut v1_as_v2 = v1.clone();
    v1_as_v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(Snapshot::from_bytes(&v1_as_v2).is_err());
}

#[test]
fn version_2_files_still_read_without_the_code_section() {
    let snap = common::rich();
    assert!(!snap.code.mappings.is_empty(), "the rich snapshot has code");
    let v2 = arenaprof_snapshot::to_bytes_v2(&snap).unwrap();
    assert_eq!(u32::from_le_bytes(v2[8..12].try_into().unwrap()), 2);
    let back = Snapshot::from_bytes(&v2).unwrap();
    let mut expect = snap.clone();
    expect.code = Default::default();
    expect.retention = Default::default();
    assert_eq!(back, expect);
    // A version-3 payload read as version 2 leaves the code section over.
    let mut v3_as_v2 = arenaprof_snapshot::to_bytes_v3(&snap).unwrap();
    v3_as_v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(Snapshot::from_bytes(&v3_as_v2).is_err());
}

#[test]
fn version_3_files_still_read_without_the_retention_history() {
    let snap = common::rich();
    assert!(snap.retention.worst.is_some(), "the rich snapshot has one");
    let v3 = arenaprof_snapshot::to_bytes_v3(&snap).unwrap();
    assert_eq!(u32::from_le_bytes(v3[8..12].try_into().unwrap()), 3);
    let back = Snapshot::from_bytes(&v3).unwrap();
    assert!(!back.retention.tracked);
    assert_eq!(back.code, snap.code);
    let mut expect = snap.clone();
    expect.retention = Default::default();
    assert_eq!(back, expect);
    // A version-4 payload under a version-3 header leaves the retention
    // history over; a version-3 payload under a version-4 header ends early.
    let mut v4_as_v3 = snap.to_bytes().unwrap();
    v4_as_v3[8..12].copy_from_slice(&3u32.to_le_bytes());
    let e = Snapshot::from_bytes(&v4_as_v3).unwrap_err();
    assert!(matches!(e, FormatError::TrailingBytes(_)), "{e}");
    let mut v3_as_v4 = v3.clone();
    v3_as_v4[8..12].copy_from_slice(&4u32.to_le_bytes());
    assert!(Snapshot::from_bytes(&v3_as_v4).is_err());
}
