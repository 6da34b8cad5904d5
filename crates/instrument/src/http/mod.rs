//! The HTTP middlewares, outermost first: request access (request id, SERVER span, access
//! line) → RED metrics → panic catcher → the application's router.

pub(crate) mod access;
mod body;
mod exception;
pub(crate) mod panic;
pub(crate) mod red;

pub use access::{CORRELATION_ID_HEADER, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER, RequestId};
pub use exception::{Exception, ExceptionType};
pub use red::{DURATION_BUCKETS, SIZE_BUCKETS, UNMATCHED_PATH};
