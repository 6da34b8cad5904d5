//! logfmt encoding: `key=value` pairs separated by spaces, values quoted when they would not
//! survive unquoted, and RFC 3339 UTC timestamps with milliseconds.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The bytes that make a value need quotes: ASCII controls, space, `"`, `=`, `\\`, DEL.
static QUOTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b <= b' ' as usize {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'=' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7f] = true;
    table
};

/// Appends ` key=value` (no leading space for the first pair), quoting the value when it is
/// empty or contains a space, `=`, `"`, `\` or a control character, with `\"`, `\\`, `\n`,
/// `\r`, `\t` escapes inside quotes.
pub(crate) fn push_pair(out: &mut String, key: &str, value: &str) {
    push_pair_known(out, key, value, false);
}

/// [`push_pair`] for a value whose need of quotes may be known: a `plain` value (hex ids,
/// digits, fresh request ids) is copied without a scan.
pub(crate) fn push_pair_known(out: &mut String, key: &str, value: &str, plain: bool) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(key);
    out.push('=');
    push_value_known(out, value, plain);
}

/// Appends a value as [`push_pair`] does, after a `key=` the caller wrote.
pub(crate) fn push_value(out: &mut String, value: &str) {
    if needs_quotes(value) {
        push_quoted(out, value);
    } else {
        out.push_str(value);
    }
}

/// [`push_value`] for a value whose need of quotes may be known (see [`push_pair_known`]).
pub(crate) fn push_value_known(out: &mut String, value: &str, plain: bool) {
    if plain {
        debug_assert!(!needs_quotes(value), "{value:?} needs quotes");
        out.push_str(value);
    } else {
        push_value(out, value);
    }
}

/// Every byte of a word set to one value.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether a value must be quoted: empty, or holding a space, `=`, `"`, `\`, an ASCII control
/// character, DEL or a C1 control character (U+0080..U+009F).
pub(crate) fn needs_quotes(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return true;
    }
    // Eight bytes at a time: every log line's values go through here, and a byte at a time
    // through a table was the largest part of a line's cost (about 7 instructions a byte).
    let verdict = |word: [u8; 8]| match special_in_word(u64::from_le_bytes(word)) {
        WordScan::Plain => None,
        WordScan::Special => Some(true),
        WordScan::NonAscii => Some(needs_quotes_by_byte(value)),
    };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        if let Some(quote) = verdict(word) {
            return quote;
        }
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return false;
    }
    // The tail, padded with a byte that needs no quotes.
    let mut word = [b'a'; 8];
    word[..rest.len()].copy_from_slice(rest);
    verdict(word).unwrap_or(false)
}

/// What one word of a value holds.
enum WordScan {
    Plain,
    Special,
    /// A byte of a multi-byte character: whether it is a C1 control needs the chars.
    NonAscii,
}

/// Whether any byte of `x` equals `b` (exact for the word as a whole).
fn has_byte(x: u64, b: u8) -> bool {
    let v = x ^ (ONES * u64::from(b));
    v.wrapping_sub(ONES) & !v & HIGH != 0
}

/// Whether any byte of `x` is below `n`, for words whose bytes are all ASCII (exact then).
fn has_byte_below(x: u64, n: u8) -> bool {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0
}

fn special_in_word(x: u64) -> WordScan {
    if x & HIGH != 0 {
        return WordScan::NonAscii;
    }
    // Controls and space, `"`, `=`, `\`, DEL.
    let special = has_byte_below(x, 0x21)
        || has_byte(x, b'"')
        || has_byte(x, b'=')
        || has_byte(x, b'\\')
        || has_byte(x, 0x7f);
    if special {
        WordScan::Special
    } else {
        WordScan::Plain
    }
}

/// Whether a word may hold a byte to escape inside quotes: an ASCII control character, `"`,
/// `\`, DEL, or any non-ASCII byte (whether that is a C1 control needs a closer look).
fn escape_in_word(x: u64) -> bool {
    x & HIGH != 0
        || has_byte_below(x, 0x20)
        || has_byte(x, b'"')
        || has_byte(x, b'\\')
        || has_byte(x, 0x7f)
}

/// [`needs_quotes`] a byte at a time, for values with non-ASCII characters: a table for the
/// ASCII bytes; only a 0xC2 byte (the lead of every C1 control character) calls for a look at
/// the chars.
fn needs_quotes_by_byte(value: &str) -> bool {
    let mut c1_lead = false;
    value.is_empty()
        || value.bytes().any(|b| {
            c1_lead |= b == 0xc2;
            QUOTE[usize::from(b)]
        })
        || (c1_lead && value.chars().any(char::is_control))
}

/// Appends `value` in quotes with its `"`, `\\` and control characters escaped. Runs of bytes
/// that need no escape are copied whole: messages are the values that usually need quotes.
fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    let bytes = value.as_bytes();
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        // Eight bytes with nothing to escape are passed over at once (messages are mostly
        // plain words between the spaces that made them need quotes).
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            if !escape_in_word(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        // A C1 control character is 0xC2 followed by 0x80..=0x9F.
        let c1 = b == 0xc2 && bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n));
        if !(b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f || c1) {
            i += 1;
            continue;
        }
        // `i` is on a char boundary: the byte is ASCII or a two-byte sequence's lead.
        out.push_str(&value[run..i]);
        let width = if c1 { 2 } else { 1 };
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            // Other control characters as \u{..} so a line stays one line.
            _ => {
                if let Some(c) = value[i..].chars().next() {
                    let _ = write!(out, "{}", c.escape_unicode());
                }
            }
        }
        i += width;
        run = i;
    }
    out.push_str(&value[run..]);
    out.push('"');
}

/// The decimal digits of `n`, written at the end of `buf` (20 digits hold any u64): the
/// status and sizes of every line, without the formatting machinery.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // SAFETY: the loop above wrote only ASCII digits to `buf[start..]`.
    unsafe { std::str::from_utf8_unchecked(&buf[start..]) }
}

/// The text `{value}` gives for a non-negative value with at most three decimals below 10^9
/// (an event's durations in milliseconds rounded to microseconds, say), written
/// without the float formatting machinery; `None` for any other value. Below 10^9 two numbers
/// with at most three decimals lie further apart than the spacing of f64s, so the
/// shortest text that reads back as `value` is that decimal with trailing zeros cut.
pub(crate) fn millis_decimal(value: f64, buf: &mut [u8; 24]) -> Option<&str> {
    if !(value.is_sign_positive() && value < 1e9) {
        return None;
    }
    let thousandths = (value * 1000.0).round();
    if thousandths / 1000.0 != value {
        return None;
    }
    // Below 10^12 and integral: exact as u64.
    Some(thousandths_decimal(thousandths as u64, buf))
}

/// `n / 1000` as a decimal with at most three decimals, trailing zeros cut (`1500` → `1.5`,
/// `12` → `0.012`, `2000` → `2`): a duration in µs as milliseconds, without floats.
pub(crate) fn thousandths_decimal(n: u64, buf: &mut [u8; 24]) -> &str {
    let (whole, mut frac) = (n / 1000, n % 1000);
    let mut int_buf = [0u8; 20];
    let whole = decimal(whole, &mut int_buf);
    let mut len = whole.len();
    buf[..len].copy_from_slice(whole.as_bytes());
    if frac != 0 {
        buf[len] = b'.';
        len += 1;
        let mut divisor = 100;
        while frac != 0 {
            buf[len] = b'0' + (frac / divisor) as u8;
            len += 1;
            frac %= divisor;
            divisor /= 10;
        }
    }
    // SAFETY: `buf[..len]` holds only ASCII digits and at most one '.', written above.
    unsafe { std::str::from_utf8_unchecked(&buf[..len]) }
}

thread_local! {
    /// The last second formatted on this thread and its `YYYY-MM-DDTHH:MM:SS` text: log lines
    /// come many per second, and only the milliseconds change between them.
    static LAST_SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `2026-11-23T14:39:00.123Z` for a time (times before 1970 print as the epoch).
#[cfg(test)]
pub(crate) fn rfc3339_millis(t: SystemTime) -> String {
    let mut out = String::with_capacity(24);
    push_rfc3339_millis(&mut out, t);
    out
}

/// Appends `2026-11-23T14:39:00.123Z` for a time (times before 1970 print as the epoch).
pub(crate) fn push_rfc3339_millis(out: &mut String, t: SystemTime) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    LAST_SECOND.with(|cell| {
        let mut last = cell.borrow_mut();
        if last.0 != secs {
            *last = (secs, seconds_text(secs));
        }
        out.push_str(&last.1);
    });
    // Three digits by hand: cheaper than the formatting machinery on every line.
    let digits = [
        b'0' + (millis / 100) as u8,
        b'0' + (millis / 10 % 10) as u8,
        b'0' + (millis % 10) as u8,
    ];
    out.push('.');
    for d in digits {
        out.push(char::from(d));
    }
    out.push('Z');
}

/// `YYYY-MM-DDTHH:MM:SS` for whole seconds since the epoch.
fn seconds_text(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's civil-from-days algorithm, in 400-year eras). `model::time` has the same
/// function; `instrument` keeps its own because it depends on no crate of the server.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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
    use super::*;
    use std::time::Duration;

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_pair(&mut s, "a", "plain/path-1.5");
        push_pair(&mut s, "b", "two words");
        push_pair(&mut s, "c", "");
        push_pair(&mut s, "d", "x=\"y\"\\");
        push_pair(&mut s, "e", "line\nbreak\u{7}");
        assert_eq!(
            s,
            r#"a=plain/path-1.5 b="two words" c="" d="x=\"y\"\\" e="line\nbreak\u{7}""#
        );
        // A C1 control character (lead byte 0xC2) is escaped; other 0xC2 chars are kept as is.
        let mut s = String::new();
        push_pair(&mut s, "f", "caf\u{e9}\u{85}");
        push_pair(&mut s, "g", "\u{a0}ok");
        assert_eq!(s, "f=\"caf\u{e9}\\u{85}\" g=\u{a0}ok");
    }

    /// What a quoted value must read as, char by char.
    fn quoted_reference(value: &str) -> String {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn quoted_runs_read_as_char_by_char_escaping() {
        let pieces = [
            "a",
            " ",
            "=",
            "\"",
            "\\",
            "\n",
            "\r",
            "\t",
            "\u{0}",
            "\u{1b}",
            "\u{7f}",
            "\u{80}",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "\u{e9}",
            "\u{20ac}",
            "\u{1f600}",
            "word",
        ];
        // Every sequence of up to three pieces: escapes at the start, the end and side by side.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let value = format!("{a}{b}{c}");
                    let mut out = String::new();
                    push_quoted(&mut out, &value);
                    assert_eq!(out, quoted_reference(&value), "{value:?}");
                }
            }
        }
    }

    /// A deterministic stream of bytes for the scan's test.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^ (z >> 31)
    }

    #[test]
    fn word_scan_decides_as_the_byte_scan() {
        // Every ASCII byte at every position of values of 1 to 20 bytes, in a plain background.
        for len in 1..=20 {
            for at in 0..len {
                for b in 0u8..0x80 {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    let value = std::str::from_utf8(&bytes).unwrap();
                    assert_eq!(
                        needs_quotes(value),
                        needs_quotes_by_byte(value),
                        "{value:?}"
                    );
                }
            }
        }
        // Random mixes of plain, special and multi-byte characters.
        let alphabet = [
            "a", "Z", "9", "/", "-", ".", "_", "~", " ", "=", "\"", "\\", "\n", "\u{0}", "\u{7f}",
            "\u{85}", "\u{a0}", "\u{e9}", "\u{20ac}", "!", "}", "{",
        ];
        let mut state = 7;
        for _ in 0..20_000 {
            let len = (next(&mut state) % 24) as usize;
            let value: String = (0..len)
                .map(|_| alphabet[(next(&mut state) % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(
                needs_quotes(&value),
                needs_quotes_by_byte(&value),
                "{value:?}"
            );
        }
        assert!(needs_quotes(""));
    }

    #[test]
    fn long_quoted_values_read_as_char_by_char_escaping() {
        // Each tricky piece at every offset of values longer than a word or two.
        let pieces = [
            "\"", "\\", "\n", "\u{1}", "\u{7f}", "\u{85}", "\u{e9}", " ", "=", "\u{20ac}",
        ];
        for piece in pieces {
            for before in 0..17 {
                for after in [0, 1, 7, 8, 9] {
                    let value = format!("{}{piece}{}", "a b".repeat(before), "z".repeat(after));
                    let mut out = String::new();
                    push_quoted(&mut out, &value);
                    assert_eq!(out, quoted_reference(&value), "{value:?}");
                }
            }
        }
    }

    #[test]
    fn decimals() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), "0");
        assert_eq!(decimal(7, &mut buf), "7");
        assert_eq!(decimal(200, &mut buf), "200");
        assert_eq!(decimal(u64::MAX, &mut buf), u64::MAX.to_string());
    }

    #[test]
    fn millisecond_floats_print_as_display_does() {
        let mut buf = [0u8; 24];
        for v in [
            0.0,
            0.001,
            0.01,
            0.1,
            0.5,
            1.0,
            1.5,
            0.123,
            12.0,
            12.05,
            999.999,
            1234.567,
            0.007,
            45.1,
            100.01,
            86_400_000.0,
            123_456_789.123,
        ] {
            assert_eq!(
                millis_decimal(v, &mut buf),
                Some(v.to_string().as_str()),
                "{v}"
            );
        }
        // Every microsecond value up to 2 s, as the access line makes them, and a stride above.
        for us in (0..2_000_000u64).chain((2_000_000..100_000_000_000).step_by(9_999_991)) {
            let v = (us as f64 / 1e6 * 1e6).round() / 1e3;
            assert_eq!(
                millis_decimal(v, &mut buf),
                Some(v.to_string().as_str()),
                "{v}"
            );
        }
        for v in [
            -0.0,
            -1.0,
            0.0001,
            1.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            1e9,
            2e15,
        ] {
            assert_eq!(millis_decimal(v, &mut buf), None, "{v}");
        }
    }

    #[test]
    fn timestamps() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339_millis(t), "2023-11-14T22:13:20.123Z");
        // The same second again (from the per-thread cache), other milliseconds.
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_007);
        assert_eq!(rfc3339_millis(t), "2023-11-14T22:13:20.007Z");
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339_millis(t), "2000-02-29T00:00:00.000Z");
    }
}
