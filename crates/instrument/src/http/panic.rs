//! The panic catcher: a panic in a handler becomes a `500 Internal Server Error`, logged at
//! error level with its message and marked with its [`ExceptionType`] for the metrics.

use super::exception::{ExceptionType, describe_panic};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls a future, turning a panic during a poll into `Err(payload)`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The handler's state is dropped right after a panic and never polled again, so a
        // broken invariant inside it cannot be observed: asserting unwind safety is sound here.
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

pub(crate) async fn catch_panic(request: Request, next: Next) -> Response {
    match CatchUnwind(Box::pin(next.run(request))).await {
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
