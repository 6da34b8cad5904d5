//! The panic catcher: a panic in a handler becomes a `500 Internal Server Error`, logged at
//! error level with its message and marked with its [`ExceptionType`] for the metrics.

use super::exception::{ExceptionType, describe_panic};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

/// Runs `inner`, turning a panic while it is polled into a 500 response.
pub(crate) async fn catch_panic<F, Fut>(request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, Infallible>>,
{
    let mut fut = std::pin::pin!(inner(request));
    // The handler's state is dropped right after a panic and never polled again, so a broken
    // invariant inside it cannot be observed: asserting unwind safety is sound here.
    let polled =
        std::future::poll_fn(
            |cx| match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                Ok(Poll::Pending) => Poll::Pending,
                Ok(Poll::Ready(Ok(response))) => Poll::Ready(Ok(response)),
                Ok(Poll::Ready(Err(never))) => match never {},
                Err(payload) => Poll::Ready(Err(payload)),
            },
        )
        .await;
    match polled {
        Ok(response) => response,
        Err(payload) => {
            let (exception_type, message) = describe_panic(payload);
            tracing::error!(
                exception.type = %exception_type,
                exception.message = %message,
                "unhandled exception in handler"
            );
            let mut response =
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
            response
                .extensions_mut()
                .insert(ExceptionType(exception_type));
            response
        }
    }
}
