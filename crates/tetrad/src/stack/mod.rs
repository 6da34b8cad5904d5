//! What `tetrad up` adds around the supervisor: service specs with the injected environment
//! ([`specs`]), the registration it keeps alive on the server ([`registration`]), the log
//! shipper for a server in another process ([`shipper`]), and the per-project state file that
//! `up -d` and `down` share ([`state_file`]).

pub mod registration;
pub mod shipper;
pub mod specs;
pub mod state_file;
