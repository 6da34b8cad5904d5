//! Label indexes: the in-memory postings of the head (label name → value → sorted series ids).

pub mod postings;

pub use postings::{MemPostings, PostingsStats};
