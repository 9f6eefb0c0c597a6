#!/usr/bin/env python3
"""Times the workloads of benches/user-build (a crate built as users build
theirs: a path dependency, Cargo's default release profile) under bare
jemalloc and under arenaprof's tracker, interleaved round by round, and
prints per workload the median wall time and max RSS of each and their
ratios. Each run is its own process, so max RSS is the workload's.

    python3 tools/user-build.py [--rounds 5] [--quick] [--sampled] [--also NAME=PATH] [WORKLOAD ...]

WORKLOAD is one of tight, touched (the tight loop at random sizes, each
block written, as the workspace's bench runs it), tagged (the tight loop
under a tag), boxes, channel, words, btree, json (the default
set), live8 ... live64 and live64a4096 (RSS of live blocks of one size), or
`all`.

`--sampled` adds two runs of the tracked program with sampling on
(`ARENAPROF_SAMPLE=bytes`) and a snapshot written at exit (`ARENAPROF_OUT`):
`sampled`, whose stacks the report tool symbolises (the default), and
`sampled-in-program` (`ARENAPROF_SYMBOLS=program`), which parses the debug
information in the program.

`--also NAME=PATH` adds another build of the tracked program (say, one
saved from an earlier commit) to every round, with its own columns.

Also checks that the allocator's entry points in the tracked binary
(`__rust_alloc`, `__rust_dealloc`) call no `LocalKey::try_with` and no
closure (the hot path inlined, thread-local state read through `%fs`),
and exits 1 if one does.
"""
import os, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATE = os.path.join(ROOT, "benches", "user-build")
TARGET = os.path.join(ROOT, "target", "user-build")
WORKLOADS = ["tight", "touched", "tagged", "boxes", "channel", "words", "btree", "json"]
# Live blocks of one size (10 M each; 100 k of 64 B at 4,096): RSS per block.
LIVE = ["live8", "live16", "live24", "live32", "live48", "live64", "live64a4096"]
QUICK = {"tight": 2_000_000, "touched": 2_000_000, "tagged": 2_000_000, "boxes": 500_000, "channel": 200_000,
         "words": 200_000, "btree": 200_000, "json": 20_000,
         **{w: 200_000 for w in LIVE}, "live64a4096": 10_000}


def run(exe, workload, n, env=None):
    """Wall time (the program's own), max RSS (GNU time's %M, whose child
    is exec'd from a small process) and checksum of one run."""
    args = ["/usr/bin/time", "-f", "%M", exe, workload] + ([str(n)] if n else [])
    p = subprocess.run(args, capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})))
    if p.returncode != 0:
        sys.exit(f"{exe} {workload}: exit status {p.returncode}: {p.stderr}")
    name, secs, checksum = p.stdout.split()
    rss_kib = int(p.stderr.strip().splitlines()[-1])
    return float(secs), rss_kib * 1024, checksum


def main():
    argv = sys.argv[1:]
    rounds = 5
    if "--rounds" in argv:
        i = argv.index("--rounds")
        rounds = int(argv[i + 1])
        del argv[i:i + 2]
    also = []
    while "--also" in argv:
        i = argv.index("--also")
        name, path = argv[i + 1].split("=", 1)
        also.append((name, path))
        del argv[i:i + 2]
    quick = "--quick" in argv
    sampled = "--sampled" in argv
    argv = [a for a in argv if a not in ("--quick", "--sampled")]
    workloads = WORKLOADS + LIVE if argv == ["all"] else (argv or WORKLOADS)
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    env.pop("RUSTFLAGS", None)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=CRATE, env=env, check=True)
    bare = os.path.join(TARGET, "release", "bare")
    tracked = os.path.join(TARGET, "release", "tracked")
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", tracked],
                         capture_output=True, text=True, check=True).stdout
    outlined = []
    for entry in ("__rust_alloc", "__rust_dealloc"):
        body = asm.split(f"<__rustc::{entry}>:\n", 1)
        if len(body) < 2:
            outlined.append(f"{entry}: not found")
            continue
        for line in body[1].split("\n\n", 1)[0].splitlines():
            if ("call" in line or "jmp" in line) and ("try_with" in line or "{{closure}}" in line):
                outlined.append(f"{entry}: {line.strip()}")
    programs = [("bare", bare, None), ("tracked", tracked, None)] + [(n, p, None) for n, p in also]
    if sampled:
        out = os.path.join(TARGET, "sampled.arenaprof")
        on = {"ARENAPROF_SAMPLE": "bytes", "ARENAPROF_OUT": out}
        programs += [("sampled", tracked, on),
                     ("sampled-in-program", tracked, dict(on, ARENAPROF_SYMBOLS="program"))]
    extra = [name for name, _, _ in programs[2:]]
    res = {w: {name: [] for name, _, _ in programs} for w in workloads}
    for _ in range(rounds):
        for w in workloads:
            n = QUICK[w] if quick else None
            for name, exe, env in programs:
                secs, rss, checksum = run(exe, w, n, env)
                res[w][name].append((secs, rss, checksum))
    cpu = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | head -1"],
                         capture_output=True, text=True).stdout.strip()
    print(f"# {cpu}; {rounds} interleaved rounds; medians (min-max)")
    print("| workload | bare time | tracked time | time ratio | bare max RSS | tracked max RSS | RSS ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for w in workloads:
        b, t = res[w]["bare"], res[w]["tracked"]
        if {c for _, _, c in b} != {c for _, _, c in t}:
            sys.exit(f"{w}: checksums differ between the allocators")
        bt = statistics.median(s for s, _, _ in b)
        tt = statistics.median(s for s, _, _ in t)
        br = statistics.median(r for _, r, _ in b)
        tr = statistics.median(r for _, r, _ in t)
        rng = lambda xs: f"{min(xs):.3f}-{max(xs):.3f}"
        print(f"| {w} | {bt:.3f} s ({rng([s for s, _, _ in b])}) | {tt:.3f} s ({rng([s for s, _, _ in t])}) "
              f"| {tt / bt:.2f}x | {br / 2**20:.1f} MiB | {tr / 2**20:.1f} MiB | {tr / br:.2f}x |")
        for name in extra:
            a = res[w][name]
            at = statistics.median(s for s, _, _ in a)
            ar = statistics.median(r for _, r, _ in a)
            print(f"| {w} ({name}) | | {at:.3f} s ({rng([s for s, _, _ in a])}) | {at / bt:.2f}x "
                  f"| | {ar / 2**20:.1f} MiB | {ar / br:.2f}x |")
    if outlined:
        print("the allocator's entry points call out of line:")
        for l in outlined:
            print("  " + l)
        sys.exit(1)
    print("__rust_alloc and __rust_dealloc call no try_with and no closure: the hot path is inline")


if __name__ == "__main__":
    main()
