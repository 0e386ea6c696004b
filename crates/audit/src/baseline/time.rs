//! Event time: RFC 3339 timestamps to whole seconds since the Unix epoch, and back.
//!
//! Audit timestamps are read on every event, so this is a small hand-written parser rather
//! than a general date library.

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 timestamp such as
/// `2023-01-27T18:28:08.129781Z` or `2023-01-27T20:28:08+02:00`.
///
/// A space may stand for the `T` and a missing zone means UTC, as some log exporters write
/// them (`2022-11-29 00:09:04.38`). Fractions of a second are dropped. `None` when the text
/// is not such a timestamp.
pub fn parse(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let (date, rest) = (b.get(..10)?, b.get(10..)?);
    if date.get(4) != Some(&b'-') || date.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(date.get(0..4)?)?;
    let month = digits(date.get(5..7)?)?;
    let day = digits(date.get(8..10)?)?;
    if !matches!(rest.first(), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let clock = rest.get(1..9)?;
    if clock.get(2) != Some(&b':') || clock.get(5) != Some(&b':') {
        return None;
    }
    let hour = digits(clock.get(0..2)?)?;
    let minute = digits(clock.get(3..5)?)?;
    let second = digits(clock.get(6..8)?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // 60 is a leap second; it is read as the next second's start.
    if second > 60 {
        return None;
    }
    let mut zone = rest.get(9..)?;
    if zone.first() == Some(&b'.') {
        let digits_len = zone
            .iter()
            .skip(1)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits_len == 0 {
            return None;
        }
        zone = zone.get(1 + digits_len..)?;
    }
    let offset = match zone {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

/// The RFC 3339 form (`2023-01-27T18:28:08Z`) of seconds since the epoch.
pub fn format(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

/// A duration in the largest whole unit that fits: `14 days`, `3 hours`, `1 minute`.
pub fn describe_span(seconds: i64) -> String {
    let s = seconds.max(0);
    let (n, unit) = if s >= 2 * 86_400 {
        (s / 86_400, "day")
    } else if s >= 2 * 3_600 {
        (s / 3_600, "hour")
    } else if s >= 120 {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_audit_timestamps() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2023-01-27T18:28:08.129781Z"), Some(1_674_844_088));
        assert_eq!(parse("2023-01-27T20:28:08+02:00"), Some(1_674_844_088));
        assert_eq!(parse("2023-01-27T16:28:08.5-02:00"), Some(1_674_844_088));
        assert_eq!(parse("2022-11-29 00:09:04.38"), Some(1_669_680_544));
        assert_eq!(parse("2024-02-29T00:00:00Z"), Some(1_709_164_800));
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2023-01-27",
            "2023-13-01T00:00:00Z",
            "2023-01-27T24:00:00Z",
            "2023-01-27T18:28:08.Z",
            "2023-01-27T18:28:08+0200",
            "2023-01-27T18:28:08Zjunk",
            "２０２３-01-27T18:28:08Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_and_round_trips() {
        assert_eq!(format(1_674_844_088), "2023-01-27T18:28:08Z");
        assert_eq!(format(-1), "1969-12-31T23:59:59Z");
        for t in [0, 951_782_400, 1_709_164_800, 4_102_444_799] {
            assert_eq!(parse(&format(t)), Some(t));
        }
    }

    #[test]
    fn describes_spans_in_whole_units() {
        assert_eq!(describe_span(14 * 86_400 + 5), "14 days");
        assert_eq!(describe_span(86_400), "24 hours");
        assert_eq!(describe_span(3_600), "60 minutes");
        assert_eq!(describe_span(61), "61 seconds");
        assert_eq!(describe_span(1), "1 second");
        assert_eq!(describe_span(-5), "0 seconds");
    }
}
