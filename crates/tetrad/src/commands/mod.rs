//! Client subcommands that talk to a running server, the load generator and the demo services.

pub mod demo_service;
pub mod load;
pub mod query;
pub mod signal;
