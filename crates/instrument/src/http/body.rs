//! Bodies that count their bytes, for the size histograms when no `Content-Length` says it.

use crate::metrics::Histogram;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// Where the count goes.
pub(crate) enum Sink {
    /// Added to a shared counter as bytes pass (the request body, read by the handler).
    Shared(Arc<AtomicU64>),
    /// Observed once when the body is dropped (the response body, sent after the middleware
    /// returned).
    ObserveOnDrop(Histogram),
}

pub(crate) struct CountingBody {
    inner: Body,
    seen: u64,
    sink: Sink,
}

impl CountingBody {
    pub(crate) fn new(inner: Body, sink: Sink) -> Self {
        CountingBody {
            inner,
            seen: 0,
            sink,
        }
    }
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        // Every field is Unpin (axum's Body boxes its inner body).
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let n = data.len() as u64;
            this.seen += n;
            if let Sink::Shared(total) = &this.sink {
                total.fetch_add(n, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for CountingBody {
    fn drop(&mut self) {
        if let Sink::ObserveOnDrop(h) = &self.sink {
            h.observe(self.seen as f64);
        }
    }
}
