//! Estimated counts from byte sampling carry an interval that holds the
//! truth (issue #11, acceptance 4): 40 sites each allocate 1,000 live
//! blocks of 512 bytes under `Sampling::Bytes { mean: 16 KiB }` (about 31
//! samples a site); the report's 95% interval for each site's objects holds
//! 1,000 at 34 or more of them (38 expected; fewer than 34 has probability
//! about 2e-4 if the intervals are right).

#[global_allocator]
static ALLOC: arenaprof::TrackingAlloc = arenaprof::TrackingAlloc::new();

const BLOCKS: usize = 1000;
const SIZE: usize = 512;

macro_rules! sites {
    ($($name:ident)*) => {
        $(
            #[inline(never)]
            fn $name() -> Vec<Box<[u8]>> {
                let mut v = Vec::with_capacity(BLOCKS);
                for i in 0..BLOCKS {
                    v.push(vec![i as u8; SIZE].into_boxed_slice());
                }
                v
            }
        )*
        const SITES: &[(&str, fn() -> Vec<Box<[u8]>>)] = &[$((stringify!($name), $name)),*];
    };
}

sites!(
    site_00 site_01 site_02 site_03 site_04 site_05 site_06 site_07 site_08 site_09
    site_10 site_11 site_12 site_13 site_14 site_15 site_16 site_17 site_18 site_19
    site_20 site_21 site_22 site_23 site_24 site_25 site_26 site_27 site_28 site_29
    site_30 site_31 site_32 site_33 site_34 site_35 site_36 site_37 site_38 site_39
);

#[test]
fn object_intervals_hold_the_true_count() {
    arenaprof::set_sampling(arenaprof::Sampling::Bytes { mean: 16 << 10 });
    let kept: Vec<_> = SITES.iter().map(|(_, f)| f()).collect();
    let snap = arenaprof::snapshot();
    arenaprof::set_sampling(arenaprof::Sampling::Off);
    let opts = arenaprof_report::Options {
        top_sites: 1000,
        ..Default::default()
    };
    let r = arenaprof_report::analyze(&snap, &opts);
    let mut held = 0;
    let mut lines = Vec::new();
    for (name, _) in SITES {
        let row = r
            .sites
            .live
            .iter()
            .find(|s| s.function.ends_with(name))
            .unwrap_or_else(|| {
                let all: Vec<_> = r.sites.live.iter().map(|s| &s.site).collect();
                panic!("no site row for {name} in {all:#?}")
            });
        assert!(row.samples > 0, "{name}: no samples");
        // The estimate is the blocks (the 512-byte slices) only.
        let truth = BLOCKS as u64;
        if row.objects_low <= truth && truth <= row.objects_high {
            held += 1;
        }
        lines.push(format!(
            "{name}: {} objects ({}-{}), {} samples",
            row.objects, row.objects_low, row.objects_high, row.samples
        ));
    }
    eprintln!("{held}/40 intervals hold {BLOCKS}; e.g. {}", lines[0]);
    assert!(
        held >= 34,
        "{held}/40 intervals hold {BLOCKS}:\n{}",
        lines.join("\n")
    );
    drop(kept);
}
