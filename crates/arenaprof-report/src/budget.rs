//! Budgets: the work and memory one input may cost.
//!
//! A snapshot is compact: a tag name is stored once and referenced by id,
//! a frame once and referenced by every stack through it, a stack once and
//! referenced by every sample, a view once and referenced by every view
//! derived from it. The report, the renderers and the flame graph expand
//! those references (a thread row names its tags, a retainer lists its
//! chain, a folded line spells out its stack), so a small, well-formed file
//! could ask for gigabytes. Every such expansion is charged to a [`Budget`]
//! before it is made: a command may spend at most
//! [`BUDGET_FACTOR`] × the input's size + [`BUDGET_BASE`] bytes on what the
//! analysis adds and on the output it renders (64 × input + 64 MiB: 320 MiB
//! for a 4 MiB input, 1.8 GiB for the 27 MiB snapshot of a million sampled
//! records, whose analysis and 64 MiB JSON report take 109 MiB of it). Past
//! it the command stops with [`BudgetError`], one line naming what did not
//! fit; the `arenaprof` command prints it and exits 2.
//!
//! Work that does not allocate is bounded by construction instead: every
//! loop over the input is linear (or `n log n`) in its size, names are
//! escaped and cut to a fixed length before they are laid out, charts are
//! drawn from at most one point per pixel, and stacks deeper than
//! [`MAX_STACK_DEPTH`] frames keep their innermost frames.
//!
//! ```
//! use arenaprof_report::budget::Budget;
//! let mut b = Budget::for_input(1000);
//! assert_eq!(b.limit(), 64 * 1000 + (64 << 20));
//! assert!(b.charge(1 << 20, "a table").is_ok());
//! let e = b.charge(1 << 30, "the timeline").unwrap_err();
//! assert!(e.to_string().starts_with("over budget: the timeline"));
//! ```

use crate::units::format_bytes;
use std::fmt;

/// Bytes of work allowed per input byte.
pub const BUDGET_FACTOR: u64 = 64;
/// Bytes of work allowed whatever the input's size.
pub const BUDGET_BASE: u64 = 64 << 20;
/// Deepest stack drawn in a flame graph or written to a pprof profile;
/// deeper stacks keep their innermost frames (the writer records at most 64).
pub const MAX_STACK_DEPTH: usize = 256;
/// Most dimensions a view's layout may have; a layout with more counts as
/// invalid (NumPy allows 64).
pub const MAX_DIMS: usize = 64;
/// Most tags drawn as strips in the timeline chart and as sparklines in the
/// text report; the others are counted in one line (the writer has 64 tags).
pub const MAX_CHART_TAGS: usize = 64;
/// Most marks drawn in the timeline chart and listed in the text report.
pub const MAX_MARKS_SHOWN: usize = 100;

/// What a command may still spend; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    input: u64,
    limit: u64,
    used: u64,
}

impl Budget {
    /// The budget for an input of `input_bytes` bytes:
    /// [`BUDGET_FACTOR`] × `input_bytes` + [`BUDGET_BASE`].
    pub fn for_input(input_bytes: u64) -> Budget {
        Budget {
            input: input_bytes,
            limit: input_bytes
                .saturating_mul(BUDGET_FACTOR)
                .saturating_add(BUDGET_BASE),
            used: 0,
        }
    }

    /// A budget that never runs out (for trusted input and tests).
    pub fn unlimited() -> Budget {
        Budget {
            input: 0,
            limit: u64::MAX,
            used: 0,
        }
    }

    /// A budget of exactly `limit` bytes.
    pub fn with_limit(limit: u64) -> Budget {
        Budget {
            input: 0,
            limit,
            used: 0,
        }
    }

    /// One budget for a command that reads two inputs (`diff`): the
    /// allowance of their summed size, less what both have spent.
    pub fn join(a: &Budget, b: &Budget) -> Budget {
        let mut j = if a.limit == u64::MAX || b.limit == u64::MAX {
            Budget::unlimited()
        } else {
            Budget::for_input(a.input.saturating_add(b.input))
        };
        j.used = a.used.saturating_add(b.used);
        j
    }

    /// Spends `bytes` on `what`, or says why not (nothing is spent then).
    pub fn charge(&mut self, bytes: u64, what: &str) -> Result<(), BudgetError> {
        self.charge_with(bytes, || what.to_owned())
    }

    /// Like [`Budget::charge`], describing `what` only when it does not fit.
    pub fn charge_with(
        &mut self,
        bytes: u64,
        what: impl FnOnce() -> String,
    ) -> Result<(), BudgetError> {
        let after = self.used.saturating_add(bytes);
        if after > self.limit {
            return Err(BudgetError {
                what: what(),
                needed: after,
                limit: self.limit,
                input: self.input,
            });
        }
        self.used = after;
        Ok(())
    }

    /// Bytes spent so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Bytes allowed in all.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Size of the input the budget was made for.
    pub fn input(&self) -> u64 {
        self.input
    }
}

/// A budget ran out: what needed more than was left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetError {
    /// What did not fit, e.g. `the timeline (20,000 tags × 50,000 points)`.
    pub what: String,
    /// Bytes spent had it been allowed.
    pub needed: u64,
    /// The budget's limit.
    pub limit: u64,
    /// The input's size (0 for a budget not made from an input).
    pub input: u64,
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "over budget: {} would take the work to {}, more than the {} allowed",
            self.what,
            format_bytes(self.needed),
            format_bytes(self.limit)
        )?;
        if self.input > 0 {
            write!(
                f,
                " for a {} input ({BUDGET_FACTOR} × input + {}; see \"Budgets\" in docs/report.md)",
                format_bytes(self.input),
                format_bytes(BUDGET_BASE)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for BudgetError {}

/// An [`std::io::Write`] that charges every byte to a budget and fails once
/// it runs out (the error is kept for the caller).
pub(crate) struct BoundedWriter<'b, W> {
    inner: W,
    budget: &'b mut Budget,
    what: &'static str,
    error: Option<BudgetError>,
}

impl<'b, W: std::io::Write> BoundedWriter<'b, W> {
    /// Wraps `inner`; `what` names the output in the error.
    pub fn new(inner: W, budget: &'b mut Budget, what: &'static str) -> Self {
        BoundedWriter {
            inner,
            budget,
            what,
            error: None,
        }
    }

    /// The budget error, if the budget ran out.
    pub fn take_error(&mut self) -> Option<BudgetError> {
        self.error.take()
    }

    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: std::io::Write> std::io::Write for BoundedWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_none() {
            if let Err(e) = self.budget.charge(buf.len() as u64, self.what) {
                self.error = Some(e);
            }
        }
        match &self.error {
            Some(e) => Err(std::io::Error::other(e.clone())),
            None => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn charges_add_up_and_a_refused_charge_spends_nothing() {
        let mut b = Budget::with_limit(100);
        b.charge(60, "a").unwrap();
        let e = b.charge(41, "b").unwrap_err();
        assert_eq!((e.needed, e.limit), (101, 100));
        assert_eq!(b.used(), 60);
        b.charge(40, "c").unwrap();
        assert!(b.charge(1, "d").is_err());
        assert!(Budget::unlimited().charge(u64::MAX, "x").is_ok());
    }

    #[test]
    fn the_bounded_writer_stops_at_the_limit() {
        let mut b = Budget::with_limit(10);
        let mut w = BoundedWriter::new(Vec::new(), &mut b, "the output");
        w.write_all(b"12345").unwrap();
        assert!(w.write_all(b"123456").is_err());
        assert!(w.take_error().unwrap().what.contains("the output"));
        assert_eq!(w.into_inner(), b"12345");
    }

    #[test]
    fn joined_budgets_allow_both_inputs() {
        let mut a = Budget::for_input(10);
        a.charge(5, "x").unwrap();
        let j = Budget::join(&a, &Budget::for_input(20));
        assert_eq!(j.limit(), Budget::for_input(30).limit());
        assert_eq!(j.used(), 5);
    }
}
