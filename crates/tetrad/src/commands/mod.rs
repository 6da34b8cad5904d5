//! Client subcommands that talk to a running server.

pub mod demo_service;
pub mod load;
pub mod query;
pub mod signal;
