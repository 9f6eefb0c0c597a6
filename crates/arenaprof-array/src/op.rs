//! The operation that made a view, kept inline (no allocation on the hot
//! path) and rendered to text only when someone reads the registry.

use ndarray::SliceInfoElem;
use std::fmt::Write;

/// Slice arguments kept inline; longer slices render the first ones and `..`.
pub(crate) const INLINE_ELEMS: usize = 4;

/// How a view or arena was made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    /// An owning array made by this constructor (`"arange"`, `"to_owned"`...).
    Owner(&'static str),
    /// `slice(s![..])`: the first arguments, compactly (see [`Arg`]);
    /// `len == u8::MAX` when one did not fit.
    Slice { elems: [Arg; INLINE_ELEMS], len: u8 },
    /// `t()`.
    T,
    /// `permuted_axes(..)` (first 8 axes kept).
    Permute { axes: [u8; 8], len: u8 },
    /// `reshape(..)` or `reshape_view(..)` that produced a view.
    Reshape,
    /// `broadcast_to(..)`.
    Broadcast,
    /// `clone()`: another handle to the same elements.
    Clone,
}

impl Op {
    #[inline]
    pub(crate) fn slice(elems: &[SliceInfoElem]) -> Op {
        let mut inline = [Arg::NEW_AXIS; INLINE_ELEMS];
        let mut len = elems.len().min(u8::MAX as usize - 1) as u8;
        for (d, e) in inline.iter_mut().zip(elems) {
            match Arg::of(e) {
                Some(a) => *d = a,
                None => len = u8::MAX,
            }
        }
        Op::Slice { elems: inline, len }
    }

    pub(crate) fn permute(axes: &[usize]) -> Op {
        let mut a = [0u8; 8];
        for (d, &s) in a.iter_mut().zip(axes) {
            *d = s.min(255) as u8;
        }
        Op::Permute {
            axes: a,
            len: axes.len().min(255) as u8,
        }
    }

    /// The constructor name of an owner, if this is one.
    pub(crate) fn owner_name(&self) -> Option<&'static str> {
        match self {
            Op::Owner(n) => Some(n),
            _ => None,
        }
    }

    /// Text as users write it: `slice[..10;2, NewAxis]`, `t()`,
    /// `reshape(4, 3)` (with the view's shape).
    pub(crate) fn render(&self, shape: &[usize]) -> String {
        let mut s = String::new();
        match self {
            Op::Owner(n) => s.push_str(n),
            Op::Slice { len: u8::MAX, .. } => s.push_str("slice[..]"),
            Op::Slice { elems, len } => {
                s.push_str("slice[");
                let shown = (*len as usize).min(INLINE_ELEMS);
                for (i, e) in elems[..shown].iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    render_elem(&mut s, &e.elem());
                }
                if *len as usize > INLINE_ELEMS {
                    s.push_str(", ..");
                }
                s.push(']');
            }
            Op::T => s.push_str("t()"),
            Op::Permute { axes, len } => {
                let shown = (*len as usize).min(8);
                let list: Vec<String> = axes[..shown].iter().map(|a| a.to_string()).collect();
                let _ = write!(s, "permuted_axes([{}])", list.join(", "));
            }
            Op::Reshape => {
                let list: Vec<String> = shape.iter().map(|a| a.to_string()).collect();
                let _ = write!(s, "reshape([{}])", list.join(", "));
            }
            Op::Broadcast => {
                let list: Vec<String> = shape.iter().map(|a| a.to_string()).collect();
                let _ = write!(s, "broadcast_to([{}])", list.join(", "));
            }
            Op::Clone => s.push_str("clone()"),
        }
        s
    }
}

/// One slice argument in 12 bytes: `step == 0` marks an index (`end == 0`)
/// or a new axis (`end == 1`); `end == i32::MIN` means "to the end".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arg {
    start: i32,
    end: i32,
    step: i32,
}

impl Arg {
    const NEW_AXIS: Arg = Arg {
        start: 0,
        end: 1,
        step: 0,
    };

    /// The compact form, `None` when a value does not fit in an `i32`.
    #[inline]
    fn of(e: &SliceInfoElem) -> Option<Arg> {
        let n = |v: isize| i32::try_from(v).ok().filter(|&v| v != i32::MIN);
        Some(match *e {
            SliceInfoElem::NewAxis => Arg::NEW_AXIS,
            SliceInfoElem::Index(i) => Arg {
                start: n(i)?,
                end: 0,
                step: 0,
            },
            SliceInfoElem::Slice { start, end, step } => Arg {
                start: n(start)?,
                end: match end {
                    Some(e) => n(e)?,
                    None => i32::MIN,
                },
                step: n(step)?,
            },
        })
    }

    fn elem(&self) -> SliceInfoElem {
        match (self.step, self.end) {
            (0, 1) => SliceInfoElem::NewAxis,
            (0, _) => SliceInfoElem::Index(self.start as isize),
            (step, end) => SliceInfoElem::Slice {
                start: self.start as isize,
                end: (end != i32::MIN).then_some(end as isize),
                step: step as isize,
            },
        }
    }
}

fn render_elem(s: &mut String, e: &SliceInfoElem) {
    match *e {
        SliceInfoElem::Index(i) => {
            let _ = write!(s, "{i}");
        }
        SliceInfoElem::NewAxis => s.push_str("NewAxis"),
        SliceInfoElem::Slice { start, end, step } => {
            if start != 0 {
                let _ = write!(s, "{start}");
            }
            s.push_str("..");
            if let Some(e) = end {
                let _ = write!(s, "{e}");
            }
            if step != 1 {
                let _ = write!(s, ";{step}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    #[test]
    fn renders_like_the_macro() {
        let info = s![1..8;2, .., -1, ndarray::NewAxis];
        assert_eq!(
            Op::slice(info.as_ref()).render(&[]),
            "slice[1..8;2, .., -1, NewAxis]"
        );
        assert_eq!(Op::slice(s![..10].as_ref()).render(&[]), "slice[..10]");
        assert_eq!(Op::slice(s![..;-1].as_ref()).render(&[]), "slice[..;-1]");
        assert_eq!(Op::permute(&[1, 0]).render(&[]), "permuted_axes([1, 0])");
        assert_eq!(Op::Reshape.render(&[4, 3]), "reshape([4, 3])");
        let long = [SliceInfoElem::Index(1); 6];
        assert_eq!(Op::slice(&long).render(&[]), "slice[1, 1, 1, 1, ..]");
        let huge = [SliceInfoElem::Index(1 << 40)];
        assert_eq!(Op::slice(&huge).render(&[]), "slice[..]");
    }
}
