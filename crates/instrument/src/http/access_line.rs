//! The access line, written straight into a per-thread buffer and handed to the log writer:
//! `level ts msg method path route status duration_ms request_id trace_id span_id client`, in
//! that order. `level` is `info` below 400, `warn` for 4xx, `error` for 5xx.
//!
//! It reads as the `tracing` event it used to be (target `instrument::access`, message
//! `request`): the telemetry's log filter decides whether it is written, and its text is what
//! the logfmt layer would make of those fields. Building it here skips the event's dispatch,
//! field visiting and span lookups, a large part of the layers' cost on a trivial request.

use crate::ids::{IdText, SpanId, TraceId};
use crate::log::LogWriter;
use crate::log::logfmt::{
    decimal, push_rfc3339_millis, push_value, push_value_known, thousandths_decimal,
};
use crate::trace::enabled::filter_enabled;
use crate::trace::layer::ACCESS_TARGET;
use crate::trace::scope::RequestIdText;
use axum::http::{Method, StatusCode};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::SystemTime;
use tracing::Level;

/// The fields of one access line.
pub(crate) struct AccessLine<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) route: &'a str,
    pub(crate) status: StatusCode,
    /// The duration in microseconds, written as milliseconds with three decimals at most.
    pub(crate) duration_us: u64,
    pub(crate) request_id: &'a RequestIdText,
    /// The request span's ids; empty values when the span is filtered out.
    pub(crate) ids: Option<(TraceId, SpanId)>,
    pub(crate) client: Option<IpAddr>,
}

/// Buffers larger than this are given back after the line (a huge path must not pin memory).
const KEEP_BUFFER_BYTES: usize = 4096;

thread_local! {
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The line's level, and whether the log filter lets it through.
fn level(status: StatusCode) -> (&'static str, bool) {
    match status.as_u16() {
        500.. => (
            "error",
            filter_enabled!(EVENT, target: ACCESS_TARGET, Level::ERROR),
        ),
        400..500 => (
            "warn",
            filter_enabled!(EVENT, target: ACCESS_TARGET, Level::WARN),
        ),
        _ => (
            "info",
            filter_enabled!(EVENT, target: ACCESS_TARGET, Level::INFO),
        ),
    }
}

/// Writes the line to `writer`, if the log filter allows its level; `now` is its timestamp.
pub(crate) fn write(writer: &LogWriter, fields: &AccessLine<'_>, now: SystemTime) {
    let (level, enabled) = level(fields.status);
    if !enabled {
        return;
    }
    let _ = LINE.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            format(&mut line, level, fields, now);
            writer.write_line(&line);
            if line.capacity() > KEEP_BUFFER_BYTES {
                *line = String::new();
            }
        }
        // Only if the writer itself logged an access line: a fresh buffer for it.
        Err(_) => {
            let mut line = String::new();
            format(&mut line, level, fields, now);
            writer.write_line(&line);
        }
    });
}

fn format(line: &mut String, level: &str, f: &AccessLine<'_>, now: SystemTime) {
    // Keys go in as constant strings with their separators, which the compiler copies
    // inline; only the values are scanned for quoting.
    line.reserve(256);
    line.push_str(match level {
        "error" => "level=error ts=",
        "warn" => "level=warn ts=",
        _ => "level=info ts=",
    });
    // A timestamp never needs quotes.
    push_rfc3339_millis(line, now);
    // A method is an HTTP token (the `http` crate checks it): never quoted.
    line.push_str(" msg=request method=");
    line.push_str(f.method.as_str());
    line.push_str(" path=");
    push_value(line, f.path);
    line.push_str(" route=");
    push_value(line, f.route);
    line.push_str(" status=");
    let mut digits = [0u8; 20];
    line.push_str(decimal(u64::from(f.status.as_u16()), &mut digits));
    line.push_str(" duration_ms=");
    let mut millis = [0u8; 24];
    line.push_str(thousandths_decimal(f.duration_us, &mut millis));
    line.push_str(" request_id=");
    push_value_known(line, f.request_id.as_str(), f.request_id.is_plain());
    match &f.ids {
        Some((trace_id, span_id)) => {
            line.push_str(" trace_id=");
            line.push_str(IdText::<32>::new(trace_id).as_str());
            line.push_str(" span_id=");
            line.push_str(IdText::<16>::new(span_id).as_str());
        }
        None => line.push_str(" trace_id=\"\" span_id=\"\""),
    }
    match f.client {
        Some(IpAddr::V4(ip)) => {
            // Dotted quad by hand: no formatting machinery for the usual case.
            line.push_str(" client=");
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    line.push('.');
                }
                line.push_str(decimal(u64::from(octet), &mut digits));
            }
        }
        Some(ip @ IpAddr::V6(_)) => {
            // An IPv6 address is hex digits, colons and dots: never quoted.
            line.push_str(" client=");
            let _ = write!(line, "{ip}");
        }
        None => line.push_str(" client=\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn line(fields: &AccessLine<'_>) -> String {
        let mut out = String::new();
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        format(&mut out, "info", fields, now);
        out
    }

    #[test]
    fn fields_in_order_quoted_as_logfmt() {
        let method = Method::GET;
        let request_id = RequestIdText::new("req-1");
        let mut fields = AccessLine {
            method: &method,
            path: "/items/4 2",
            route: "/items/{id}",
            status: StatusCode::OK,
            duration_us: 12,
            request_id: &request_id,
            ids: Some(([0xab; 16], [0x01; 8])),
            client: Some(IpAddr::from([127, 0, 0, 1])),
        };
        assert_eq!(
            line(&fields),
            "level=info ts=2023-11-14T22:13:20.123Z msg=request method=GET path=\"/items/4 2\" \
             route=/items/{id} status=200 duration_ms=0.012 request_id=req-1 \
             trace_id=abababababababababababababababab span_id=0101010101010101 client=127.0.0.1"
        );
        fields.ids = None;
        fields.client = Some("::1".parse().unwrap());
        fields.duration_us = 1_234_500;
        let text = line(&fields);
        assert!(
            text.ends_with(
                "duration_ms=1234.5 request_id=req-1 trace_id=\"\" span_id=\"\" client=::1"
            ),
            "{text}"
        );
        for (us, ms) in [
            (0, "0"),
            (1, "0.001"),
            (2_000, "2"),
            (86_400_000_000, "86400000"),
        ] {
            fields.duration_us = us;
            assert!(
                line(&fields).contains(&format!(" duration_ms={ms} ")),
                "{us}"
            );
        }
        fields.client = None;
        assert!(line(&fields).ends_with(" client=\"\""));
    }
}
