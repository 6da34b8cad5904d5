//! The panic catcher: a panic in a handler becomes a `500 Internal Server Error`, logged at
//! error level with its message and marked with its [`ExceptionType`] for the metrics.

use super::exception::{ExceptionType, describe_panic};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a caught panic carried.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Polls the handler's future, a panic while it runs becoming `Err` with its payload.
///
/// The future is never polled again after a panic, only dropped, so a broken invariant inside
/// it cannot be observed: asserting unwind safety is sound here.
pub(crate) fn poll_caught<F>(
    handler: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response, Payload>>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    match catch_unwind(AssertUnwindSafe(|| handler.poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(Ok(response))) => Poll::Ready(Ok(response)),
        Ok(Poll::Ready(Err(never))) => match never {},
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

/// The answer to a caught panic: an error log line with the panic's type and message, and a
/// 500 marked with its [`ExceptionType`].
pub(crate) fn panic_response(payload: Payload) -> Response {
    let (exception_type, message) = describe_panic(payload);
    tracing::error!(
        exception.type = %exception_type,
        exception.message = %message,
        "unhandled exception in handler"
    );
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    response
        .extensions_mut()
        .insert(ExceptionType(exception_type));
    response
}
