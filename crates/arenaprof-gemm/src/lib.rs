//! GEMM (work in progress).
