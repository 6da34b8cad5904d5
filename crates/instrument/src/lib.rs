//! Observability for axum/tower services.

#![warn(missing_docs)]

pub mod profiling;
