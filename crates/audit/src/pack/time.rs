//! Event time as microseconds since the Unix epoch, read without allocating.

/// Parses RFC 3339 (`2023-01-27T18:28:08.129781Z`, an offset, or a space instead of `T`,
/// as some log shippers write it). No zone means UTC. `None` if the text is not a time.
pub(crate) fn micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let (hour, min, sec) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut at = 19;
    let mut fraction = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let mut scale = 100_000i64;
        while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            fraction += i64::from(d - b'0') * scale;
            scale /= 10;
            at += 1;
        }
    }
    let offset = match b.get(at) {
        None | Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let minutes = digits(b, at + 1, 2)? * 60 + digits(b, at + 4, 2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        Some(_) => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + min * 60 + sec - offset;
    Some(seconds * 1_000_000 + fraction)
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let mut n = 0i64;
    for i in at..at + len {
        let d = *b.get(i)?;
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(n)
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::micros;

    #[test]
    fn reads_the_shapes_audit_logs_use() {
        assert_eq!(micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            micros("2023-01-27T18:28:08.129781Z"),
            Some(1_674_844_088_129_781)
        );
        assert_eq!(
            micros("2023-01-27 18:28:08.129781000"),
            Some(1_674_844_088_129_781)
        );
        assert_eq!(
            micros("2023-01-27T19:28:08.5+01:00"),
            Some(1_674_844_088_500_000)
        );
        assert_eq!(micros("2000-02-29T00:00:00Z"), Some(951_782_400_000_000));
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2023-13-01T00:00:00Z",
            "2023-01-27T18:28",
            "2023-01-27T18:28:08Q",
        ] {
            assert_eq!(micros(bad), None, "{bad}");
        }
    }
}
