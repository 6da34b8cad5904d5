//! The span layer: gives every `tracing` span a W3C trace id and span id, keeps its
//! attributes, events and status while it is open, and hands it to the exporter when it closes.
//!
//! Fields named as `tracing-opentelemetry` does steer the span instead of becoming attributes:
//! `otel.name` (the span name, since `tracing` names are static), `otel.kind` (`server`,
//! `client`, ...), `otel.status_code` (`error` / `ok`), `otel.status_message`, and
//! `otel.traceparent` (a W3C `traceparent` value making the span a child of a remote span; the
//! request layer sets it from the incoming header). A `request_id` field is also kept apart so
//! that every log line inside the request (child spans included) carries it.

use super::data::{Kind, SpanData, SpanEvent, Value};
use super::export::SpanSender;
use super::scope::{self, Effective};
use crate::fields::Fields;
use crate::ids::{SpanContext, SpanId, TraceId, new_span_id, new_trace_id};
use std::time::SystemTime;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Calls made when a thread enters or leaves a span, so a sampling profiler can label its
/// samples with the span being run. Plain function pointers keep the hot path free of
/// dynamic dispatch and allocation.
#[derive(Clone, Copy)]
pub(crate) struct SpanHook {
    /// The thread now runs inside this span.
    pub(crate) set: fn(TraceId, SpanId),
    /// The thread now runs outside any traced span.
    pub(crate) clear: fn(),
    /// Whether anyone listens now: when not, entering and leaving spans skips the lookups the
    /// two calls need. A profiler started while a thread is inside a span labels that
    /// thread's samples from its next span switch on.
    pub(crate) active: fn() -> bool,
}

/// The hook installed by [`crate::Telemetry`]: the CPU profiler labels its samples with the
/// span the thread runs (two thread-local stores; harmless when no profiler runs).
pub(crate) const PROFILING_HOOK: SpanHook = SpanHook {
    set: crate::profiling::set_thread_span,
    clear: crate::profiling::clear_thread_span,
    active: crate::profiling::sampler::is_running,
};

/// The target of the access line events.
pub(crate) const ACCESS_TARGET: &str = "instrument::access";

pub(crate) struct SpanLayer {
    exporter: Option<SpanSender>,
    hook: SpanHook,
}

impl SpanLayer {
    pub(crate) fn new(exporter: Option<SpanSender>, hook: SpanHook) -> Self {
        SpanLayer { exporter, hook }
    }

    /// A field collector: attributes are only worth collecting when spans are exported.
    fn fields(&self) -> Fields {
        if self.exporter.is_some() {
            Fields::default()
        } else {
            Fields::steering_only()
        }
    }
}

/// Applies recorded fields to a span: the `otel.*` steering fields and `request_id` apart,
/// the rest as attributes (kept only when `keep_attributes`: without an exporter nobody reads
/// them). Returns the remote parent when `otel.traceparent` was given.
fn apply(data: &mut SpanData, fields: Fields, keep_attributes: bool) -> Option<SpanContext> {
    let mut remote = None;
    for (key, value) in fields.pairs {
        match key {
            "otel.name" => data.name = value.into_text(),
            "otel.kind" => {
                if let Some(kind) = Kind::parse(&value.into_text()) {
                    data.kind = kind;
                }
            }
            "otel.status_code" => {
                let code = value.into_text();
                data.error = if code.eq_ignore_ascii_case("error") {
                    Some(true)
                } else if code.eq_ignore_ascii_case("ok") {
                    Some(false)
                } else {
                    None
                };
            }
            "otel.status_message" => data.status_message = value.into_text(),
            "otel.traceparent" => remote = SpanContext::from_traceparent(&value.into_text()),
            "request_id" => {
                if keep_attributes {
                    data.request_id = Some(value.to_text());
                    data.set_attribute(key, value);
                } else {
                    data.request_id = Some(value.into_text());
                }
            }
            _ if keep_attributes => data.set_attribute(key, value),
            _ => {}
        }
    }
    remote
}

impl<S> tracing_subscriber::Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = self.fields();
        attrs.record(&mut fields);
        // The name is filled below: from `otel.name` when given, else the static name.
        let mut data = SpanData::start(
            [0; 16],
            new_span_id(),
            None,
            String::new(),
            Kind::Internal,
            0,
        );
        let remote = apply(&mut data, fields, self.exporter.is_some());
        if data.name.is_empty() {
            data.name = span.metadata().name().to_string();
        }
        // The parent: the registry's (explicit, or the span entered now), unless a request
        // is being polled and that span is not inside it (see `scope`).
        let request = if attrs.is_root() {
            None
        } else {
            scope::current_ids()
        };
        let parent = span.parent();
        let parent_extensions = parent.as_ref().map(|p| p.extensions());
        let parent_data = parent_extensions.as_ref().and_then(|e| e.get::<SpanData>());
        let local_parent = match scope::effective(parent_data, request) {
            Effective::Registry(d) => Some((d.trace_id, d.span_id, d.request_id.clone())),
            Effective::Request => scope::with_current(|s| {
                s.ids
                    .map(|(t, sp)| (t, sp, Some(s.request_id.as_str().to_string())))
            })
            .flatten(),
            Effective::None => None,
        };
        drop(parent_extensions);
        match (remote, local_parent) {
            (Some(remote), _) => {
                data.trace_id = remote.trace_id;
                data.parent_span_id = Some(remote.span_id);
            }
            (None, Some((trace_id, span_id, request_id))) => {
                data.trace_id = trace_id;
                data.parent_span_id = Some(span_id);
                if data.request_id.is_none() {
                    data.request_id = request_id;
                }
            }
            (None, None) => data.trace_id = new_trace_id(),
        }
        span.extensions_mut().insert(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut fields = self.fields();
        values.record(&mut fields);
        // Without an exporter most recorded fields are not kept: nothing to look up then.
        if fields.pairs.is_empty() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        if let Some(data) = span.extensions_mut().get_mut::<SpanData>() {
            // A remote parent can only be given when the span is created.
            let _ = apply(data, fields, self.exporter.is_some());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // The access line repeats what the request span already holds; without an exporter,
        // span events would be thrown away.
        if self.exporter.is_none() || event.metadata().target() == ACCESS_TARGET {
            return;
        }
        let request = scope::current_ids();
        let span = ctx.event_span(event);
        let mut extensions = span.as_ref().map(|s| s.extensions_mut());
        let data = extensions.as_mut().and_then(|e| e.get_mut::<SpanData>());
        // The application's span inside the request (or outside any request) gets the event;
        // else the request's own span does.
        let into_registry = match (&data, request) {
            (Some(d), Some((trace_id, _))) => d.trace_id == trace_id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !into_registry && request.is_none() {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut attributes = Vec::with_capacity(fields.pairs.len() + 1);
        attributes.push((
            "level".to_string(),
            Value::Str(event.metadata().level().as_str().to_ascii_lowercase()),
        ));
        attributes.extend(fields.pairs.into_iter().map(|(k, v)| (k.to_string(), v)));
        let span_event = SpanEvent {
            time: SystemTime::now(),
            name: fields
                .message
                .unwrap_or_else(|| event.metadata().name().to_string()),
            attributes,
        };
        match data {
            Some(data) if into_registry => data.add_event(span_event),
            _ => {
                drop(extensions);
                scope::with_current(|s| {
                    if s.record_events {
                        s.add_event(span_event);
                    }
                });
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !(self.hook.active)() {
            return;
        }
        if let Some(span) = ctx.span(id)
            && let Some(data) = span.extensions().get::<SpanData>()
        {
            (self.hook.set)(data.trace_id, data.span_id);
        }
    }

    fn on_exit(&self, _id: &Id, ctx: Context<'_, S>) {
        if !(self.hook.active)() {
            return;
        }
        // The registry has already popped the span: what is current now is the parent, if any.
        let current = ctx.lookup_current().and_then(|s| {
            s.extensions()
                .get::<SpanData>()
                .map(|d| (d.trace_id, d.span_id))
        });
        // Back in the request being polled, if any.
        match current.or_else(scope::current_ids) {
            Some((trace_id, span_id)) => (self.hook.set)(trace_id, span_id),
            None => (self.hook.clear)(),
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(exporter) = &self.exporter else {
            return;
        };
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let data = span.extensions_mut().remove::<SpanData>();
        if let Some(data) = data {
            exporter.send(data.to_proto(SystemTime::now()));
        }
    }
}

/// The trace id and span id of a span, when it is traced by a [`crate::Telemetry`].
pub fn span_ids(span: &tracing::Span) -> Option<(TraceId, SpanId)> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(id)?;
        let extensions = span.extensions();
        let data = extensions.get::<SpanData>()?;
        Some((data.trace_id, data.span_id))
    })
    .flatten()
}

/// The trace id and span id of the span the caller runs in (for exemplars, profiles, or
/// passing to systems `tracing` does not reach).
pub fn current_span_ids() -> Option<(TraceId, SpanId)> {
    let registry = span_ids(&tracing::Span::current());
    match (registry, scope::current_ids()) {
        // An application span inside the request.
        (Some(span), Some(request)) if span.0 == request.0 => Some(span),
        (_, Some(request)) => Some(request),
        (span, None) => span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use tracing_subscriber::layer::SubscriberExt;

    thread_local! {
        static CALLS: RefCell<Vec<Option<(TraceId, SpanId)>>> = const { RefCell::new(Vec::new()) };
    }

    const RECORDING_HOOK: SpanHook = SpanHook {
        set: |t, s| CALLS.with(|c| c.borrow_mut().push(Some((t, s)))),
        clear: || CALLS.with(|c| c.borrow_mut().push(None)),
        active: || true,
    };

    const IDLE_HOOK: SpanHook = SpanHook {
        active: || false,
        ..RECORDING_HOOK
    };

    #[test]
    fn an_idle_hook_is_not_called() {
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(None, IDLE_HOOK));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("quiet");
            let _entered = span.enter();
            assert!(current_span_ids().is_some(), "still traced");
        });
        assert!(CALLS.with(|c| c.borrow().is_empty()));
    }

    #[test]
    fn hook_follows_enter_and_exit_and_children_share_the_trace() {
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(None, RECORDING_HOOK));
        tracing::subscriber::with_default(subscriber, || {
            let parent = tracing::info_span!("parent", request_id = "r-1");
            let parent_ids = span_ids(&parent).expect("traced");
            let child_ids;
            {
                let _p = parent.enter();
                let child = tracing::info_span!("child");
                child_ids = span_ids(&child).expect("traced");
                assert_eq!(child_ids.0, parent_ids.0, "same trace");
                assert_ne!(child_ids.1, parent_ids.1);
                let _c = child.enter();
                assert_eq!(current_span_ids(), Some(child_ids));
            }
            assert_eq!(current_span_ids(), None);
            let calls = CALLS.with(|c| c.borrow().clone());
            assert_eq!(
                calls,
                vec![Some(parent_ids), Some(child_ids), Some(parent_ids), None]
            );
        });
    }

    #[test]
    fn remote_parent_and_steering_fields() {
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(None, RECORDING_HOOK));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "x",
                otel.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            );
            let (trace_id, _) = span_ids(&span).unwrap();
            assert_eq!(
                crate::ids::hex(&trace_id),
                "4bf92f3577b34da6a3ce929d0e0e4736"
            );
            // A malformed traceparent starts a new trace.
            let span = tracing::info_span!("y", otel.traceparent = "garbage");
            let (other, _) = span_ids(&span).unwrap();
            assert_ne!(other, trace_id);
        });
    }
}
