//! The access line, written straight into a per-thread buffer and handed to the log writer:
//! `level ts msg method path route status duration_ms request_id trace_id span_id client`, in
//! that order. `level` is `info` below 400, `warn` for 4xx, `error` for 5xx.
//!
//! It reads as the `tracing` event it used to be (target `instrument::access`, message
//! `request`): the telemetry's log filter decides whether it is written, and its text is what
//! the logfmt layer would make of those fields. Building it here skips the event's dispatch,
//! field visiting and span lookups, a large part of the layers' cost on a trivial request.
//!
//! To a buffered writer (stdout) the line goes as a record: its fields copied in a compact
//! encoding, which the writer thread renders. The request's thread then only copies a few
//! strings and integers; the formatting (timestamp, digits, quoting) runs in the writer's
//! batches, whose code stays in the instruction cache from one line to the next.

use crate::ids::{IdText, SpanId, TraceId};
use crate::log::LogWriter;
use crate::log::logfmt::{
    decimal, push_rfc3339_millis, push_value, push_value_known, thousandths_decimal,
};
use crate::trace::enabled::filter_enabled;
use crate::trace::layer::ACCESS_TARGET;
use crate::trace::scope::RequestIdText;
use axum::http::StatusCode;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::Level;

/// The fields of one access line.
pub(crate) struct AccessLine<'a> {
    pub(crate) method: &'a str,
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

/// Whether the log filter lets through the line of a response with `status`, at its level.
fn enabled(status: StatusCode) -> bool {
    match status.as_u16() {
        500.. => filter_enabled!(EVENT, target: ACCESS_TARGET, Level::ERROR),
        400..500 => filter_enabled!(EVENT, target: ACCESS_TARGET, Level::WARN),
        _ => filter_enabled!(EVENT, target: ACCESS_TARGET, Level::INFO),
    }
}

/// Writes the line to `writer`, if the log filter allows its level; `now` is its timestamp.
pub(crate) fn write(writer: &LogWriter, fields: &AccessLine<'_>, now: SystemTime) {
    if !enabled(fields.status) {
        return;
    }
    if let Some(buffered) = writer.buffered() {
        buffered.write_record(render_record, |out| encode(out, fields, now));
        return;
    }
    let _ = LINE.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            format(&mut line, fields, now);
            writer.write_line(&line);
            if line.capacity() > KEEP_BUFFER_BYTES {
                *line = String::new();
            }
        }
        // Only if the writer itself logged an access line: a fresh buffer for it.
        Err(_) => {
            let mut line = String::new();
            format(&mut line, fields, now);
            writer.write_line(&line);
        }
    });
}

fn format(line: &mut String, f: &AccessLine<'_>, now: SystemTime) {
    // Keys go in as constant strings with their separators, which the compiler copies
    // inline; only the values are scanned for quoting.
    line.reserve(256);
    line.push_str(match f.status.as_u16() {
        500.. => "level=error ts=",
        400..500 => "level=warn ts=",
        _ => "level=info ts=",
    });
    // A timestamp never needs quotes.
    push_rfc3339_millis(line, now);
    // A method is an HTTP token (the `http` crate checks it): never quoted.
    line.push_str(" msg=request method=");
    line.push_str(f.method);
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

/// Flags of an encoded line.
const HAS_IDS: u8 = 1;
const CLIENT_V4: u8 = 2;
const CLIENT_V6: u8 = 4;
const REQUEST_ID_PLAIN: u8 = 8;

/// Appends the fields of a line and its time to `out`, for [`render_record`]: the time
/// (seconds and nanoseconds since the epoch), status, duration, flags, ids and client address
/// when there are, the lengths of the method, path, route and request id, then those texts
/// one after the other (so that reading them back checks UTF-8 once).
fn encode(out: &mut Vec<u8>, f: &AccessLine<'_>, now: SystemTime) {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    out.extend_from_slice(&since_epoch.as_secs().to_le_bytes());
    out.extend_from_slice(&since_epoch.subsec_nanos().to_le_bytes());
    out.extend_from_slice(&f.status.as_u16().to_le_bytes());
    out.extend_from_slice(&f.duration_us.to_le_bytes());
    let flags = if f.ids.is_some() { HAS_IDS } else { 0 }
        | if f.request_id.is_plain() {
            REQUEST_ID_PLAIN
        } else {
            0
        }
        | match f.client {
            Some(IpAddr::V4(_)) => CLIENT_V4,
            Some(IpAddr::V6(_)) => CLIENT_V6,
            None => 0,
        };
    out.push(flags);
    if let Some((trace_id, span_id)) = &f.ids {
        out.extend_from_slice(trace_id);
        out.extend_from_slice(span_id);
    }
    match f.client {
        Some(IpAddr::V4(ip)) => out.extend_from_slice(&ip.octets()),
        Some(IpAddr::V6(ip)) => out.extend_from_slice(&ip.octets()),
        None => {}
    }
    let texts = [f.method, f.path, f.route, f.request_id.as_str()];
    for text in texts {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    }
    for text in texts {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Renders what [`encode`] wrote as the line [`format`] makes of the same fields (nothing for
/// an encoding it cannot read, which `encode` never writes).
fn render_record(mut record: &[u8], line: &mut String) {
    let _ = render(&mut record, line);
}

fn render(record: &mut &[u8], line: &mut String) -> Option<()> {
    let secs = u64::from_le_bytes(take(record)?);
    let nanos = u32::from_le_bytes(take(record)?);
    let now = UNIX_EPOCH.checked_add(Duration::new(secs, nanos.min(999_999_999)))?;
    let status = StatusCode::from_u16(u16::from_le_bytes(take(record)?)).ok()?;
    let duration_us = u64::from_le_bytes(take(record)?);
    let [flags] = take(record)?;
    let ids = if flags & HAS_IDS != 0 {
        Some((take(record)?, take(record)?))
    } else {
        None
    };
    let client = if flags & CLIENT_V4 != 0 {
        Some(IpAddr::from(take::<4>(record)?))
    } else if flags & CLIENT_V6 != 0 {
        Some(IpAddr::from(take::<16>(record)?))
    } else {
        None
    };
    let mut lengths = [0usize; 4];
    for length in &mut lengths {
        *length = usize::try_from(u64::from_le_bytes(take(record)?)).ok()?;
    }
    // The texts were whole `str`s, one after the other: their boundaries are char boundaries
    // of the whole.
    let mut texts = std::str::from_utf8(record).ok()?;
    let [method, path, route, request_id] = lengths.map(|len| {
        let text = texts.get(..len);
        texts = texts.get(len..).unwrap_or("");
        text
    });
    let request_id = RequestIdText::with_plain(request_id?, flags & REQUEST_ID_PLAIN != 0);
    let (method, path, route) = (method?, path?, route?);
    let fields = AccessLine {
        method,
        path,
        route,
        status,
        duration_us,
        request_id: &request_id,
        ids,
        client,
    };
    format(line, &fields, now);
    Some(())
}

/// The next `N` bytes of `record`.
fn take<const N: usize>(record: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = record.split_first_chunk::<N>()?;
    *record = rest;
    Some(*head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn line(fields: &AccessLine<'_>) -> String {
        let mut out = String::new();
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        format(&mut out, fields, now);
        out
    }

    #[test]
    fn fields_in_order_quoted_as_logfmt() {
        let request_id = RequestIdText::new("req-1");
        let mut fields = AccessLine {
            method: "GET",
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

    /// The line a record renders to, from what `encode` made of `fields`.
    fn rendered(fields: &AccessLine<'_>, now: SystemTime) -> String {
        let mut record = Vec::new();
        encode(&mut record, fields, now);
        let mut out = String::new();
        render_record(&record, &mut out);
        out
    }

    #[test]
    fn a_record_renders_as_the_line_formatted_at_once() {
        let plain_id = RequestIdText::new("req-1");
        let quoted_id = RequestIdText::new("id=\"x\"");
        let long_path = format!("/items/{}?q=a b", "é".repeat(3000));
        let clients = [
            None,
            Some(IpAddr::from([10, 0, 0, 255])),
            Some("2001:db8::1".parse().unwrap()),
        ];
        let times = [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_700_000_000, 999_999_999),
            UNIX_EPOCH + Duration::new(4_102_444_800, 1_000_000),
            // Before the epoch: formatted as the epoch, both ways.
            UNIX_EPOCH - Duration::from_secs(5),
        ];
        let mut checked = 0;
        for (method, path, route) in [
            ("GET", "/", "/"),
            ("POST", "/items/4 2", "/items/{id}"),
            ("PURGE", long_path.as_str(), "<unmatched>"),
            ("DELETE", "", ""),
        ] {
            for status in [200, 302, 404, 500, 599] {
                for (ids, request_id) in [
                    (Some(([0xab; 16], [0x01; 8])), &plain_id),
                    (None, &quoted_id),
                ] {
                    for client in clients {
                        for now in times {
                            let fields = AccessLine {
                                method,
                                path,
                                route,
                                status: StatusCode::from_u16(status).unwrap(),
                                duration_us: u64::from(status) * 1_001,
                                request_id,
                                ids,
                                client,
                            };
                            let mut direct = String::new();
                            format(&mut direct, &fields, now);
                            assert_eq!(rendered(&fields, now), direct);
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 5 * 2 * 3 * 4);
    }

    #[test]
    fn a_cut_record_renders_nothing() {
        let request_id = RequestIdText::new("req-1");
        let fields = AccessLine {
            method: "GET",
            path: "/a",
            route: "/a",
            status: StatusCode::OK,
            duration_us: 1,
            request_id: &request_id,
            ids: None,
            client: None,
        };
        let mut record = Vec::new();
        encode(&mut record, &fields, UNIX_EPOCH);
        for len in 0..record.len() {
            let mut out = String::new();
            render_record(&record[..len], &mut out);
            assert_eq!(out, "", "cut at {len}");
        }
    }
}
