//! Subcommands beyond `server`: the query client, the stack commands, the load generator and the
//! demo services.

pub mod demo;
pub mod demo_service;
pub mod detach;
pub mod down;
pub mod load;
pub mod ps;
pub mod query;
pub mod signal;
pub mod up;
