//! Status, stats and log events as plain name/value pairs: the one form of what tabs are told
//! (camelCase names; a log event's `event` first), which each shell turns into JS objects
//! without a serializer in the wasm. `tests/fields.rs` pins every object as literal JSON.

use alloc::string::String;
use alloc::vec::Vec;

/// A value in an object's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A number.
    Num(u64),
    /// A string.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
    /// A nested object.
    Obj(Vec<(&'a str, FieldValue<'a>)>),
    /// An instant of the engine's clock (monotonic ms), which a page reads as wall time: the
    /// shell adds the wall clock's current offset from the monotonic one (`at + (wall_now -
    /// mono_now)`), so a step of the OS clock shows in the value and changes no deadline.
    At(u64),
}

impl<'a> FieldValue<'a> {
    /// A number, or `null`.
    pub fn num(n: Option<u64>) -> Self {
        n.map_or(FieldValue::Null, FieldValue::Num)
    }

    /// An instant of the engine's clock ([`FieldValue::At`]), or `null`.
    pub fn at(t: Option<u64>) -> Self {
        t.map_or(FieldValue::Null, FieldValue::At)
    }

    /// A string, or `null`.
    pub fn text(s: &'a Option<String>) -> Self {
        s.as_deref().map_or(FieldValue::Null, FieldValue::Text)
    }
}

/// The JSON these fields stand for (for tests and fuzzing: the shells build JS objects instead).
#[cfg(feature = "json")]
pub fn to_json(fields: &[(&str, FieldValue)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in fields {
        let v = match v {
            FieldValue::Num(n) | FieldValue::At(n) => (*n).into(),
            FieldValue::Text(t) => (*t).into(),
            FieldValue::Bool(b) => (*b).into(),
            FieldValue::Null => serde_json::Value::Null,
            FieldValue::Obj(inner) => to_json(inner),
        };
        map.insert((*k).into(), v);
    }
    serde_json::Value::Object(map)
}
