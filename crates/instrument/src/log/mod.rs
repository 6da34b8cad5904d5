//! Logs: `tracing` events written as logfmt lines that carry the ids of the request and trace
//! they belong to.

mod background;
mod layer;
pub(crate) mod logfmt;
mod writer;

pub(crate) use layer::LogfmtLayer;
pub use writer::{LogWriter, MemoryLog};
