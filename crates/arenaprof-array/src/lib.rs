//! Arrays (work in progress).
