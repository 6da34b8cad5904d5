//! The logfmt layer: one line per `tracing` event,
//! `level=info ts=2026-11-23T14:39:00.123Z msg="..." <event fields> request_id=... trace_id=... span_id=...`.
//!
//! `request_id`, `trace_id` and `span_id` come from the span the event happens in (its own, or
//! the request's for `request_id`) and are left out outside spans. An event that carries these
//! fields itself (the access line does, to fix their position) keeps its own.

use super::logfmt::{push_pair, rfc3339_millis};
use super::writer::LogWriter;
use crate::fields::Fields;
use crate::trace::data::SpanData;
use std::time::SystemTime;
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

impl<S> tracing_subscriber::Layer<S> for LogfmtLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = String::with_capacity(256);
        push_pair(&mut line, "level", level_name(event.metadata().level()));
        push_pair(&mut line, "ts", &rfc3339_millis(SystemTime::now()));
        push_pair(&mut line, "msg", fields.message.as_deref().unwrap_or(""));
        let mut has = [false; 3];
        const IDS: [&str; 3] = ["request_id", "trace_id", "span_id"];
        for (key, value) in &fields.pairs {
            if let Some(i) = IDS.iter().position(|k| k == key) {
                has[i] = true;
            }
            push_pair(&mut line, key, &value.to_text());
        }
        if has != [true; 3]
            && let Some(span) = ctx.event_span(event)
            && let Some(data) = span.extensions().get::<SpanData>()
        {
            let ids = [
                data.request_id.clone(),
                Some(data.trace_id_hex()),
                Some(data.span_id_hex()),
            ];
            for ((key, present), value) in IDS.iter().zip(has).zip(ids) {
                if !present && let Some(value) = value {
                    push_pair(&mut line, key, &value);
                }
            }
        }
        self.writer.write_line(&line);
    }
}
