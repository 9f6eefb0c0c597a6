//! Where the text and HTML renderers write: a string that charges every byte
//! to a [`Budget`], and for text escapes control characters (newlines
//! excepted) whatever the renderer passed in.

use crate::budget::{Budget, BudgetError};
use crate::sanitize;

pub(crate) struct Sink<'b> {
    buf: String,
    budget: &'b mut Budget,
    what: &'static str,
    text: bool,
    error: Option<BudgetError>,
    /// Widest line tables should take (`usize::MAX`: no limit).
    pub(crate) width: usize,
}

impl<'b> Sink<'b> {
    /// A sink for terminal text: unsafe characters other than `\n` escaped.
    pub(crate) fn text(budget: &'b mut Budget, what: &'static str) -> Self {
        Sink::new(budget, what, true)
    }

    /// A sink for markup the renderer escaped itself.
    pub(crate) fn markup(budget: &'b mut Budget, what: &'static str) -> Self {
        Sink::new(budget, what, false)
    }

    fn new(budget: &'b mut Budget, what: &'static str, text: bool) -> Self {
        Sink {
            buf: String::new(),
            budget,
            what,
            text,
            error: None,
            width: usize::MAX,
        }
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        if self.error.is_some() {
            return;
        }
        let s = if self.text {
            sanitize::text(s)
        } else {
            std::borrow::Cow::Borrowed(s)
        };
        match self.budget.charge(s.len() as u64, self.what) {
            Ok(()) => self.buf.push_str(&s),
            Err(e) => self.error = Some(e),
        }
    }

    pub(crate) fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    /// The output, or the budget error that stopped it.
    pub(crate) fn finish(self) -> Result<String, BudgetError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }
}

impl std::fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        if self.error.is_some() {
            Err(std::fmt::Error)
        } else {
            Ok(())
        }
    }
}
