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
    /// `slice(s![..])`.
    Slice {
        elems: [SliceInfoElem; INLINE_ELEMS],
        len: u8,
    },
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
    pub(crate) fn slice(elems: &[SliceInfoElem]) -> Op {
        let mut inline = [SliceInfoElem::NewAxis; INLINE_ELEMS];
        let n = elems.len().min(INLINE_ELEMS);
        inline[..n].copy_from_slice(&elems[..n]);
        Op::Slice {
            elems: inline,
            len: elems.len().min(u8::MAX as usize) as u8,
        }
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
            Op::Slice { elems, len } => {
                s.push_str("slice[");
                let shown = (*len as usize).min(INLINE_ELEMS);
                for (i, e) in elems[..shown].iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    render_elem(&mut s, e);
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
    }
}
