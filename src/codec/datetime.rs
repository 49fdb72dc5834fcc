//! XSD `dateTime` (TR-106 §3.2.2): parsing, formatting and calendar arithmetic, without a
//! time library. Time values are Unix seconds (`i64`); the clock itself is read elsewhere.
//!
//! TR-106: `0001-01-01T00:00:00Z` is the "unknown time"; years before 1000 denote a time
//! relative to boot. Both are valid values.

/// The unknown time.
pub const UNKNOWN_TIME: &str = "0001-01-01T00:00:00Z";

/// A parsed dateTime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z (local time taken as UTC when no zone was given).
    pub unix: i64,
    /// Offset from UTC in seconds, when the text had a zone.
    pub offset: Option<i32>,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Formats Unix seconds as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_utc(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Formats a time as `YYYY-MM-DDThh:mm:ss.uuuuuuZ` (TR-143 times carry microseconds).
pub fn format_utc_micros(t: std::time::SystemTime) -> String {
    let d = t
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = format_utc(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    format!("{}.{:06}Z", secs.trim_end_matches('Z'), d.subsec_micros())
}

/// Formats Unix seconds in a fixed offset: `YYYY-MM-DDThh:mm:ss+hh:mm`.
pub fn format_offset(unix: i64, offset: i32) -> String {
    let local = unix + i64::from(offset);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        o / 3600,
        o / 60 % 60
    )
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses an XSD dateTime: `[-]YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`.
pub fn parse(text: &str) -> Option<DateTime> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (date, rest) = body.split_once('T')?;
    let mut dp = date.rsplitn(3, '-');
    let d = digits(dp.next()?, 2)?;
    let m = digits(dp.next()?, 2)?;
    let ytext = dp.next()?;
    // Years have at least four digits; more only without a leading zero.
    if ytext.len() < 4
        || (ytext.len() > 4 && ytext.starts_with('0'))
        || !ytext.bytes().all(|b| b.is_ascii_digit())
        || ytext.len() > 9
    {
        return None;
    }
    let mut y: i64 = ytext.parse().ok()?;
    if neg {
        y = -y;
    }
    if y == 0 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    // Time, optional fraction, optional zone.
    let (time, zone) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (hms, frac) = match time.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (time, None),
    };
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let mut tp = hms.split(':');
    let hh = digits(tp.next()?, 2)?;
    let mm = digits(tp.next()?, 2)?;
    let ss = digits(tp.next()?, 2)?;
    if tp.next().is_some() || mm > 59 || ss > 59 {
        return None;
    }
    // 24:00:00 is allowed by XSD as the end of the day.
    if hh > 24
        || (hh == 24 && (mm != 0 || ss != 0 || frac.is_some_and(|f| f.bytes().any(|b| b != b'0'))))
    {
        return None;
    }
    let offset = match zone {
        None => None,
        Some("Z") => Some(0),
        Some(z) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = z[1..].split_once(':')?;
            let (oh, om) = (digits(oh, 2)?, digits(om, 2)?);
            if oh > 14 || om > 59 || (oh == 14 && om != 0) {
                return None;
            }
            Some(sign * (oh as i32 * 3600 + om as i32 * 60))
        }
    };
    let secs = days_from_civil(y, m, d) * 86_400
        + i64::from(hh) * 3600
        + i64::from(mm) * 60
        + i64::from(ss);
    Some(DateTime {
        unix: secs - i64::from(offset.unwrap_or(0)),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsecond_times_keep_six_digits() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_764_050_400, 1_234_000);
        assert_eq!(format_utc_micros(t), "2025-11-25T06:00:00.001234Z");
        assert_eq!(
            format_utc_micros(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(parse("1970-01-01T00:00:00Z").unwrap().unix, 0);
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse("2000-03-01T00:00:00Z").unwrap().unix, 951_868_800);
        assert_eq!(format_utc(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(format_utc(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(parse("9999-12-31T23:59:59Z").unwrap().unix, 253_402_300_799);
    }

    #[test]
    fn unknown_and_relative_times_are_valid() {
        let u = parse(UNKNOWN_TIME).unwrap();
        assert_eq!(format_utc(u.unix), UNKNOWN_TIME);
        assert!(parse("0001-01-02T03:04:05Z").is_some());
    }

    #[test]
    fn leap_years() {
        assert!(parse("2000-02-29T00:00:00Z").is_some());
        assert!(parse("2024-02-29T00:00:00Z").is_some());
        assert!(parse("1900-02-29T00:00:00Z").is_none());
        assert!(parse("2023-02-29T00:00:00Z").is_none());
    }

    #[test]
    fn offsets_fractions_and_no_zone() {
        let a = parse("2024-05-01T12:00:00+02:00").unwrap();
        let b = parse("2024-05-01T10:00:00Z").unwrap();
        assert_eq!(a.unix, b.unix);
        assert_eq!(a.offset, Some(7200));
        assert_eq!(parse("2024-05-01T10:00:00.123Z").unwrap().unix, b.unix);
        assert_eq!(parse("2024-05-01T10:00:00").unwrap().offset, None);
        assert_eq!(parse("2024-05-01T09:30:00-00:30").unwrap().unix, b.unix);
        assert_eq!(format_offset(b.unix, 7200), "2024-05-01T12:00:00+02:00");
        assert_eq!(format_offset(b.unix, -16200), "2024-05-01T05:30:00-04:30");
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "2024-01-01T12:60:00Z",
            "2024-01-01T12:00:60Z",
            "2024-01-01 12:00:00Z",
            "24-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z",
            "2024-01-01T00:00:00+15:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00Z",
            "0000-01-01T00:00:00Z",
            "02024-01-01T00:00:00Z",
            "2024-01-01T00:00:00ZZ",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} accepted");
        }
        assert!(parse("2024-01-01T24:00:00Z").is_some());
    }
}
