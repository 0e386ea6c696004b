//! The json plugin's fields (`json.value[/pointer]`, `json.obj`, `json.rawtime`) and their
//! `jevt.*` aliases.

use super::{Arg, ArgKind, Extractor, FieldDef, Values, step};
use crate::Event;
use crate::event::fields::Str;
use serde_json::Value;
use std::borrow::Cow;

/// How each json field is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The value at a JSON pointer.
    Value,
    /// The whole event, indented.
    Obj,
    /// The event time in nanoseconds since the epoch.
    Rawtime,
}

const fn def(name: &'static str, arg: ArgKind, kind: Kind) -> FieldDef {
    FieldDef {
        name,
        is_list: false,
        arg,
        extract: Extractor::Json(kind),
    }
}

/// The json plugin's six fields.
pub static FIELDS: [FieldDef; 6] = [
    def("json.value", ArgKind::Key, Kind::Value),
    def("json.obj", ArgKind::None, Kind::Obj),
    def("json.rawtime", ArgKind::None, Kind::Rawtime),
    def("jevt.value", ArgKind::Key, Kind::Value),
    def("jevt.obj", ArgKind::None, Kind::Obj),
    def("jevt.rawtime", ArgKind::None, Kind::Rawtime),
];

/// Reads one json field of an event (pointers into the typed fields are read before this).
pub fn extract<'e>(kind: Kind, arg: &Arg, event: &'e Event) -> Values<'e> {
    match kind {
        Kind::Rawtime => {
            let f = event.fields();
            let nanos = [Str::StageTimestamp, Str::RequestReceived, Str::Timestamp]
                .into_iter()
                .find_map(|k| f.str(k).and_then(rfc3339_nanos));
            rawtime(nanos)
        }
        Kind::Value | Kind::Obj => extract_json(kind, arg, event.json()),
    }
}

fn rawtime<'e>(nanos: Option<i128>) -> Values<'e> {
    Values::one(
        nanos
            .and_then(|n| i64::try_from(n).ok())
            .map(|n| Cow::Owned(n.to_string().into_bytes())),
    )
}

/// The keys of a JSON pointer, unescaped, as [`pointer_value`] follows them; `None` for the
/// empty pointer (the whole event).
pub(super) fn pointer_keys(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return None;
    }
    let pointer = pointer.strip_prefix('/').unwrap_or(pointer);
    Some(
        pointer
            .split('/')
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// Reads one json field from the event's JSON.
pub fn extract_json<'e>(kind: Kind, arg: &Arg, ev: &'e Value) -> Values<'e> {
    match kind {
        Kind::Value => {
            let Arg::Key(pointer) = arg else {
                return Values::None;
            };
            Values::one(pointer_value(ev, pointer).map(super::as_text))
        }
        Kind::Obj => match serde_json::to_string_pretty(ev) {
            Ok(text) => Values::One(Cow::Owned(text.into_bytes())),
            Err(_) => Values::None,
        },
        Kind::Rawtime => rawtime(event_nanos(ev)),
    }
}

/// Walks an RFC 6901 pointer as the plugin does: a leading `/` is optional, an empty
/// pointer is the whole event, `~1` and `~0` are unescaped, arrays take numeric keys.
fn pointer_value<'e>(ev: &'e Value, pointer: &str) -> Option<&'e Value> {
    if pointer.is_empty() {
        return Some(ev);
    }
    let pointer = pointer.strip_prefix('/').unwrap_or(pointer);
    pointer.split('/').try_fold(ev, |v, token| {
        if token.contains('~') {
            step(v, &token.replace("~1", "/").replace("~0", "~"))
        } else {
            step(v, token)
        }
    })
}

/// The event's time as the k8saudit plugin stamps it: `stageTimestamp` (falling back to
/// `requestReceivedTimestamp`, then `timestamp`, for events the plugin would not read).
pub fn event_nanos(ev: &Value) -> Option<i128> {
    ["stageTimestamp", "requestReceivedTimestamp", "timestamp"]
        .iter()
        .find_map(|k| ev.get(*k).and_then(Value::as_str).and_then(rfc3339_nanos))
}

/// Nanoseconds since the epoch of an RFC 3339 time, such as `2018-10-26T13:42:46.808261Z`.
pub fn rfc3339_nanos(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let digits = b
            .get(i..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        for k in 0..9 {
            let d = if k < digits {
                i64::from(*b.get(i + k)? - b'0')
            } else {
                0
            };
            nanos = nanos * 10 + d;
        }
        i += digits;
    }
    let offset_seconds = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 => {
            let secs = num(i + 1, 2)? * 3600 + num(i + 4, 2)? * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rawtime_is_stage_timestamp_in_nanoseconds() {
        assert_eq!(rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_nanos("2018-10-26T13:42:46.808261Z"),
            Some(1_540_561_366_808_261_000)
        );
        assert_eq!(
            rfc3339_nanos("2018-10-26T15:42:46+02:00"),
            Some(1_540_561_366_000_000_000)
        );
        assert_eq!(rfc3339_nanos("2018-10-26"), None);
        let ev = json!({"stageTimestamp": "1970-01-01T00:00:01.5Z"});
        assert_eq!(event_nanos(&ev), Some(1_500_000_000));
    }

    #[test]
    fn pointers_unescape_and_index_arrays() {
        let ev = json!({"annotations": {"a/b": "x", "m~n": 1}, "items": [{"n": "first"}]});
        assert_eq!(pointer_value(&ev, "/annotations/a~1b"), Some(&json!("x")));
        assert_eq!(pointer_value(&ev, "/annotations/m~0n"), Some(&json!(1)));
        assert_eq!(pointer_value(&ev, "/items/0/n"), Some(&json!("first")));
        assert_eq!(pointer_value(&ev, "items/0/n"), Some(&json!("first")));
        assert_eq!(pointer_value(&ev, "/nope"), None);
    }
}
