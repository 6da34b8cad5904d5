//! The logfmt layer: one line per `tracing` event,
//! `level=info ts=2026-11-23T14:39:00.123Z msg="..." <event fields> request_id=... trace_id=... span_id=...`.
//!
//! `request_id`, `trace_id` and `span_id` come from the span the event happens in (its own, or
//! the request's for `request_id`) and are left out outside spans. An event that carries these
//! fields itself keeps its own. Inside a request, "the span the event happens in" is the request's
//! own (see `trace::scope`) unless the application opened a span of its own there.

use super::logfmt::{decimal, millis_decimal, push_pair, push_pair_known, push_rfc3339_millis};
use super::writer::LogWriter;
use crate::ids::{IdText, SpanId, TraceId};
use crate::trace::data::SpanData;
use crate::trace::scope::{self, Effective};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub(crate) struct LogfmtLayer {
    writer: LogWriter,
}

impl LogfmtLayer {
    pub(crate) fn new(writer: LogWriter) -> Self {
        LogfmtLayer { writer }
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Which of the id keys the event carried itself.
const IDS: [&str; 3] = ["request_id", "trace_id", "span_id"];

/// Writes an event's fields as logfmt pairs straight into `rest`, the message apart since it
/// goes first. Non-text values are formatted into one reused scratch buffer.
struct LineVisitor<'a> {
    rest: &'a mut String,
    message: &'a mut String,
    scratch: String,
    has_ids: [bool; 3],
}

impl LineVisitor<'_> {
    fn pair(&mut self, field: &Field, value: &str) {
        self.pair_quoted_if_needed(field, value, false);
    }

    /// [`Self::pair`] for a value that never needs quotes (digits, `true`): not scanned.
    fn plain_pair(&mut self, field: &Field, value: &str) {
        self.pair_quoted_if_needed(field, value, true);
    }

    fn pair_quoted_if_needed(&mut self, field: &Field, value: &str, plain: bool) {
        let name = field.name();
        if name == "message" {
            self.message.push_str(value);
            return;
        }
        if let Some(i) = IDS.iter().position(|k| *k == name) {
            self.has_ids[i] = true;
        }
        push_pair_known(self.rest, name, value, plain);
    }

    fn formatted(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        // Writing to a String cannot fail.
        let _ = scratch.write_fmt(value);
        self.pair(field, &scratch);
        self.scratch = scratch;
    }
}

impl Visit for LineVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        let mut digits = [0u8; 20];
        let text = decimal(value.unsigned_abs(), &mut digits);
        if value < 0 {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            scratch.push('-');
            scratch.push_str(text);
            self.plain_pair(field, &scratch);
            self.scratch = scratch;
        } else {
            self.plain_pair(field, text);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let mut digits = [0u8; 20];
        self.plain_pair(field, decimal(value, &mut digits));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        let mut digits = [0u8; 24];
        match millis_decimal(value, &mut digits) {
            Some(text) => self.pair(field, text),
            None => self.formatted(field, format_args!("{value}")),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.plain_pair(field, if value { "true" } else { "false" });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.formatted(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.formatted(field, format_args!("{value:?}"));
    }
}

/// The buffers a line is built in, kept per thread so that a line allocates nothing once the
/// thread has logged a few.
#[derive(Default)]
struct LineBuffers {
    message: String,
    rest: String,
    scratch: String,
    line: String,
}

/// Buffers larger than this are given back after the line, so one huge line does not pin
/// its memory on the thread.
const KEEP_BUFFER_BYTES: usize = 16 * 1024;

impl LineBuffers {
    fn clear(&mut self) {
        for buffer in [
            &mut self.message,
            &mut self.rest,
            &mut self.scratch,
            &mut self.line,
        ] {
            buffer.clear();
            if buffer.capacity() > KEEP_BUFFER_BYTES {
                buffer.shrink_to(KEEP_BUFFER_BYTES);
            }
        }
    }
}

thread_local! {
    static BUFFERS: RefCell<LineBuffers> = RefCell::new(LineBuffers::default());
}

/// Appends the ids the event did not carry itself, from the span it happens in: an
/// application span, else the request being polled (see `trace::scope`).
fn push_ids<S>(rest: &mut String, has_ids: [bool; 3], event: &Event<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // The request id with whether it is known to need no quotes.
    let mut push = |request_id: Option<(&str, bool)>, trace_id: &TraceId, span_id: &SpanId| {
        if !has_ids[0]
            && let Some((request_id, plain)) = request_id.filter(|(r, _)| !r.is_empty())
        {
            push_pair_known(rest, IDS[0], request_id, plain);
        }
        if !has_ids[1] {
            push_pair_known(rest, IDS[1], IdText::<32>::new(trace_id).as_str(), true);
        }
        if !has_ids[2] {
            push_pair_known(rest, IDS[2], IdText::<16>::new(span_id).as_str(), true);
        }
    };
    let request = scope::current_ids();
    let span = ctx.event_span(event);
    let extensions = span.as_ref().map(|s| s.extensions());
    let data = extensions.as_ref().and_then(|e| e.get::<SpanData>());
    match scope::effective(data, request) {
        Effective::Registry(data) => {
            let request_id = data.request_id.as_deref().map(|r| (r, false));
            push(request_id, &data.trace_id, &data.span_id);
        }
        Effective::Request => {
            scope::with_current(|s| {
                if let Some((trace_id, span_id)) = s.ids {
                    let request_id = (s.request_id.as_str(), s.request_id.is_plain());
                    push(Some(request_id), &trace_id, &span_id);
                }
            });
        }
        Effective::None => {}
    }
}

impl LogfmtLayer {
    /// Formats the event's line into `buffers.line` and hands it to the writer.
    fn write_event<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, buffers: &mut LineBuffers)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let LineBuffers {
            message,
            rest,
            scratch,
            line,
        } = buffers;
        let mut visitor = LineVisitor {
            rest,
            message,
            scratch: std::mem::take(scratch),
            has_ids: [false; 3],
        };
        event.record(&mut visitor);
        let has_ids = visitor.has_ids;
        *scratch = visitor.scratch;
        if has_ids != [true; 3] {
            push_ids(rest, has_ids, event, ctx);
        }
        push_pair(line, "level", level_name(event.metadata().level()));
        // A timestamp never needs quotes.
        line.push_str(" ts=");
        push_rfc3339_millis(line, SystemTime::now());
        push_pair(line, "msg", message);
        if !rest.is_empty() {
            line.push(' ');
            line.push_str(rest);
        }
        self.writer.write_line(line);
    }
}

impl<S> tracing_subscriber::Layer<S> for LogfmtLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        BUFFERS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => {
                buffers.clear();
                self.write_event(event, &ctx, &mut buffers);
            }
            // An event logged while this thread writes a line (by the writer itself): fresh
            // buffers for it.
            Err(_) => self.write_event(event, &ctx, &mut LineBuffers::default()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_fields_print_as_before() {
        let (writer, log) = super::super::LogWriter::memory();
        let subscriber = tracing_subscriber::layer::SubscriberExt::with(
            tracing_subscriber::registry(),
            LogfmtLayer::new(writer),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                a = 0u64,
                b = -42i64,
                c = i64::MIN,
                d = 17i64,
                e = 1.5f64,
                "ints"
            );
        });
        let lines = log.lines();
        assert!(
            lines[0].ends_with(&format!("msg=ints a=0 b=-42 c={} d=17 e=1.5", i64::MIN)),
            "{lines:?}"
        );
    }
}
