//! Calendar arithmetic for RFC 3339 UTC timestamps. Core never reads the
//! clock: callers pass the instant in (seconds since the Unix epoch).

/// `secs` (+ `nanos`) since the epoch as `2026-01-27T12:00:00Z`, or with
/// nanoseconds as `2026-01-27T12:00:00.123456789Z` when `nanos` is given.
pub fn rfc3339(secs: u64, nanos: Option<u32>) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    match nanos {
        Some(n) => format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{n:09}Z"),
        None => format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
    }
}

/// Seconds since the epoch of an RFC 3339 UTC time with second precision
/// (`2026-01-30T12:00:00Z`, as snapshots record it); `None` for any other
/// form.
pub fn parse_rfc3339_seconds(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs).ok()
}

/// Day count since 1970-01-01 of a Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
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
    use proptest::prelude::*;

    #[test]
    fn known_instants_format_as_rfc3339() {
        assert_eq!(rfc3339(0, Some(0)), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(951_782_400, Some(5)),
            "2000-02-29T00:00:00.000000005Z"
        );
        assert_eq!(rfc3339(1_769_515_200, None), "2026-01-27T12:00:00Z");
    }

    #[test]
    fn other_forms_do_not_parse() {
        for text in [
            "2026-01-27T12:00:00.5Z",
            "2026-01-27 12:00:00Z",
            "2026-13-01T00:00:00Z",
            "",
        ] {
            assert_eq!(parse_rfc3339_seconds(text), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn formatting_and_parsing_round_trip(secs in 0u64..253_402_300_799) {
            prop_assert_eq!(parse_rfc3339_seconds(&rfc3339(secs, None)), Some(secs));
        }
    }
}
