//! Time: tetrad stores milliseconds since the Unix epoch as `i64`, like Prometheus.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A source of the current time, injectable so tests control it.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        now_ms()
    }
}

/// Why a duration string is not a Prometheus duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string is empty.
    #[error("empty duration string")]
    Empty,
    /// Not of the form `1y2w3d4h5m6s7ms` (units in that order, each at most once) nor `0`.
    #[error("not a valid duration string")]
    Invalid,
    /// Longer than Go's `time.Duration` (int64 nanoseconds) holds, as Prometheus refuses it.
    #[error("duration out of range")]
    OutOfRange,
}

/// Milliseconds per unit, in the order units must appear.
const MS_PER_UNIT: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Go's `time.Duration` (nanoseconds in an i64) bounds every duration Prometheus accepts.
const MAX_DURATION_MS: i64 = i64::MAX / 1_000_000;

/// Parses a duration in Prometheus' syntax (`model.ParseDuration`): `1h30m`, `15s`, `2w`, units
/// y w d h m s ms in that order, each at most once, or `0`; years are 365 days. Returns ms.
pub fn parse_duration_ms(text: &str) -> Result<i64, DurationError> {
    match text {
        "0" => return Ok(0),
        "" => return Err(DurationError::Empty),
        _ => {}
    }
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: i64 = 0;
    let mut overflow = false;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(DurationError::Invalid);
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = if after.starts_with("ms") {
            2
        } else {
            after.chars().next().map_or(0, |c| c.len_utf8())
        };
        let unit = &after[..unit_len];
        let index = MS_PER_UNIT[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .map(|i| i + next_unit)
            .ok_or(DurationError::Invalid)?;
        next_unit = index + 1;
        let mult = MS_PER_UNIT[index].1;
        // Keep parsing after an overflow: a malformed tail is reported as invalid first, as Go does.
        match number.parse::<i64>() {
            Ok(n) if n <= MAX_DURATION_MS / mult => {
                total = total.saturating_add(n * mult);
                overflow |= total > MAX_DURATION_MS;
            }
            _ => overflow = true,
        }
        rest = &after[unit_len..];
    }
    if overflow {
        return Err(DurationError::OutOfRange);
    }
    Ok(total)
}

/// Formats ms as Prometheus' `model.Duration.String()`: `1h30m`, `15s`, `0s`; years and weeks
/// only when the duration is a whole number of them.
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut rest = ms;
    let mut out = String::new();
    for (i, (unit, mult)) in MS_PER_UNIT.iter().enumerate() {
        let exact_only = i < 2;
        if exact_only && rest % mult != 0 {
            continue;
        }
        let count = rest / mult;
        if count > 0 {
            out.push_str(&format!("{count}{unit}"));
            rest -= count * mult;
        }
    }
    out
}

/// Formats ms since the epoch as RFC 3339 in UTC with trailing zeros of the fraction trimmed,
/// as Go's `RFC3339Nano`; 0 gives Go's zero time.
pub fn rfc3339_ms(ms: i64) -> String {
    if ms == 0 {
        return "0001-01-01T00:00:00Z".into();
    }
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    if frac != 0 {
        let f = format!("{frac:03}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's civil-from-days algorithm, in 400-year eras).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339_ms(0), "0001-01-01T00:00:00Z");
        assert_eq!(
            super::rfc3339_ms(1_484_665_664_720),
            "2017-01-17T15:07:44.72Z"
        );
        assert_eq!(super::rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    use super::*;

    #[test]
    fn durations_parse_like_prometheus() {
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("100ms"), Ok(100));
        assert_eq!(parse_duration_ms("2w"), Ok(14 * 86_400_000));
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms(""), Err(DurationError::Empty));
        assert_eq!(parse_duration_ms("1m1h"), Err(DurationError::Invalid));
        assert_eq!(parse_duration_ms("1.5h"), Err(DurationError::Invalid));
        assert_eq!(parse_duration_ms("5"), Err(DurationError::Invalid));
        assert_eq!(parse_duration_ms("100000y"), Err(DurationError::OutOfRange));
    }

    #[test]
    fn durations_format_like_prometheus() {
        assert_eq!(format_duration_ms(90_000), "1m30s");
        assert_eq!(format_duration_ms(8 * 86_400_000), "8d");
        assert_eq!(format_duration_ms(14 * 86_400_000), "2w");
        assert_eq!(format_duration_ms(0), "0s");
        assert_eq!(format_duration_ms(1_500), "1s500ms");
    }
}
