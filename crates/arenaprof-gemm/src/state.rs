//! A pool's shared state: its settings, plan, workspaces and worker
//! handles, behind the pool's lock. Read by [`figures`](crate::figures), driven by
//! [`pool`](crate::pool).

use crate::config::{machine_threads, GemmConfig};
use crate::sizing::{self, Plan};
use crate::worker::{resize, Counters, Shared, WorkerHandle, CMD_QUIT, CMD_RESIZE};
use arenaprof_alloc::Workspace;
use std::sync::atomic::Ordering::*;
use std::sync::{Arc, Mutex};

pub(crate) struct PoolInner {
    pub name: String,
    pub state: Mutex<State>,
}

pub(crate) struct State {
    pub config: GemmConfig,
    pub plan: Plan,
    pub shared: Arc<Shared>,
    /// Worker 0's (the caller's) workspace.
    pub ws0: Option<Workspace>,
    pub counters0: Counters,
    /// Workers 1..: pool threads.
    pub workers: Vec<WorkerHandle>,
    /// Workspaces were released by `free_buffers`.
    pub released: bool,
    /// Pool threads the OS refused to start.
    pub spawn_failures: u64,
    /// GEMM calls that ran kernels.
    pub calls: u64,
}

impl State {
    /// Sends `cmd` to pool threads `from..to` and waits until they are done.
    pub(crate) fn command(&mut self, from: usize, to: usize, cmd: u8, arg: usize) {
        if from >= to {
            return;
        }
        // SAFETY: we hold the pool lock and no command is in flight
        // (every command is waited for before returning).
        unsafe { self.shared.prepare(None, to - from) };
        for w in &self.workers[from..to] {
            w.send(cmd, arg);
        }
        self.shared.wait_done();
    }

    /// Moves to the plan for `threads` and `cap`: stops surplus threads,
    /// frees every workspace whose size changes before allocating any, then
    /// starts missing threads. Every allocation happens with the live total
    /// at or below the new plan, so the cap holds throughout.
    pub(crate) fn apply(&mut self, threads: usize, cap: usize) {
        let new = sizing::plan(threads, cap);
        let keep = new.workers - 1;
        let n = self.workers.len();
        if n > keep {
            self.command(keep, n, CMD_QUIT, 0);
            for w in &mut self.workers[keep..] {
                w.join();
            }
            self.workers.truncate(keep);
        }
        if new.region != self.plan.region || self.released || self.ws0.is_none() {
            let n = self.workers.len();
            self.command(0, n, CMD_RESIZE, 0);
            resize(&mut self.ws0, 0, &self.counters0);
            resize(&mut self.ws0, new.region, &self.counters0);
            self.command(0, n, CMD_RESIZE, new.region);
        }
        let have = self.workers.len();
        if have < keep {
            // SAFETY: pool lock held, nothing in flight.
            unsafe { self.shared.prepare(None, keep - have) };
            for index in have + 1..=keep {
                match WorkerHandle::spawn(&self.shared, index, new.region) {
                    Ok(w) => self.workers.push(w),
                    Err(_) => {
                        let missing = keep + 1 - index;
                        self.spawn_failures += missing as u64;
                        self.shared.countdown.cancel(missing);
                        break;
                    }
                }
            }
            self.shared.wait_done();
        }
        self.plan = new;
        self.released = false;
        let spin = if new.workers <= machine_threads() {
            u64::from(self.config.spin_us) * 1000
        } else {
            0
        };
        self.shared.spin_ns.store(spin, Relaxed);
    }

    pub(crate) fn release(&mut self) {
        let n = self.workers.len();
        self.command(0, n, CMD_RESIZE, 0);
        resize(&mut self.ws0, 0, &self.counters0);
        self.released = true;
    }
}
