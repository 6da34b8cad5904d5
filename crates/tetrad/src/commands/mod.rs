//! Subcommands beyond `server`: the query client and the stack commands.

pub mod detach;
pub mod down;
pub mod ps;
pub mod query;
pub mod up;
