//! How handlers report exceptions: [`Exception`] as a panic payload, [`ExceptionType`] as a
//! response extension. Both end up in `http_exceptions_total{exception_type}`.

use std::borrow::Cow;

/// A typed panic payload: raise it with [`Exception::raise`] (or `std::panic::panic_any`) and
/// the request becomes a 500 counted under `exception_type` = [`Exception::type_name`], the
/// way an uncaught Python exception is counted by its class name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The exception's type, e.g. `ValueError` or `InventoryUnavailable`.
    pub type_name: Cow<'static, str>,
    /// What happened.
    pub message: String,
}

impl Exception {
    /// An exception of a type with a message.
    pub fn new(type_name: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Exception {
            type_name: type_name.into(),
            message: message.into(),
        }
    }

    /// Panics with this exception as the payload.
    pub fn raise(self) -> ! {
        std::panic::panic_any(self)
    }
}

impl std::fmt::Display for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.type_name, self.message)
    }
}

/// Installs a panic hook that stays quiet for [`Exception`] payloads and reports every other
/// panic with the hook it replaces. An `Exception` is raised on purpose, and the layers already
/// log it as one logfmt error line with the request's trace; the default hook would add a
/// multi-line message (and a backtrace under `RUST_BACKTRACE`) to the log for each.
pub fn quiet_exception_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<Exception>().is_none() {
            default_hook(info);
        }
    }));
}

/// A response extension marking a response as the result of an exception that the handler
/// caught and turned into an error response itself:
/// `response.extensions_mut().insert(ExceptionType::new("DatabaseError"))` counts it in
/// `http_exceptions_total` under that type, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionType(pub Cow<'static, str>);

impl ExceptionType {
    /// An exception type name.
    pub fn new(type_name: impl Into<Cow<'static, str>>) -> Self {
        ExceptionType(type_name.into())
    }
}

/// The type name and message of a panic payload: an [`Exception`]'s own, else `panic` and the
/// payload's text.
pub(crate) fn describe_panic(
    payload: Box<dyn std::any::Any + Send>,
) -> (Cow<'static, str>, String) {
    match payload.downcast::<Exception>() {
        Ok(e) => (e.type_name, e.message),
        Err(payload) => {
            let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
                (*s).to_string()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "panic with a non-text payload".to_string()
            };
            (Cow::Borrowed("panic"), message)
        }
    }
}
