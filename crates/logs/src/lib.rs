//! The log pillar of tetrad.
//!
//! Every log source — the supervisor of `tetrad up` capturing stdout and stderr, Loki push,
//! OTLP logs, file tailing — produces [`model::LogRecord`]s and hands them to a [`LogSink`].
//! The sink is the only thing a source knows about where logs go, so the same source feeds
//! the terminal, the server's store, or an HTTP shipper to a remote server, and a
//! [`FanoutSink`] feeds several at once.
//!
//! The contract of [`LogSink::push`]:
//!
//! - It is called from async tasks, so it must not block for long: a sink that does I/O with
//!   a remote end queues (bounded) and returns, and one that cannot keep up refuses with
//!   [`LogSinkError::Full`] instead of waiting.
//! - A refused batch is the caller's to count and drop; sources do not retry, because a
//!   process's output cannot be paused and an unbounded backlog is worse than a gap.
//! - Records of one stream (one label set) arrive in the order they were read.
//!
//! The store proper (chunks, index, LogQL) is still to come; until it lands the server keeps
//! the recent lines in a [`MemoryLogSink`], a ring bounded by record count and bytes.

#![warn(missing_docs)]

mod fanout;
mod memory;
mod sink;

pub use fanout::FanoutSink;
pub use memory::{MemoryLogSink, MemoryLogSinkStats};
pub use sink::{LogSink, LogSinkError};
