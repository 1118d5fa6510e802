//! The page ⇄ worker protocol: every message of each direction declared once, with its wire
//! name and its fields' wire names and limits; `encode` and `decode` are generated from that
//! one declaration ([`messages!`]).
//!
//! Both sides use this module and nothing else to build or read a port message: the thin
//! page client (`crates/tab`), the SharedWorker (`crates/worker`) and the in-page engine of
//! direct mode (`crates/direct`, which speaks the same messages without a port). So the two
//! sides cannot drift apart.
//!
//! On the wire a string, an `ArrayBuffer` or a typed array is a data frame (page → worker:
//! send it; worker → page: it arrived), passed on untouched. A number is a send's
//! acknowledgement ([`ToTab::Sent`], worker → page). Every other message is a plain object
//! whose `t` field names it. One post carries one message or, as an array, several
//! ([`post_of`], [`ToWorker::read_post`], [`ToTab::read_post`]): batching is the transport's,
//! not a message.
//!
//! Reading a page's message never copies a string field into wasm before its length (read
//! on the JS string) is known to be within the field's limit: a page cannot make the worker
//! copy a 100 MB string.

use std::cell::RefCell;
use tabmux_core::error::decimal;
use tabmux_core::integrity::MAX_TOPIC_BYTES;
use tabmux_core::token::MAX_TOKEN_BYTES;
use tabmux_core::{Error, ErrorCode, PROTOCOL_VERSION, ProtocolError};
use wasm_bindgen::{JsCast, JsValue};

/// The longest tab id accepted in a hello.
const MAX_TAB_ID: u32 = 64;
/// The longest lock name accepted in a hello or a lock message.
const MAX_LOCK: u32 = 128;
/// The longest build id accepted in a hello.
const MAX_BUILD: u32 = 64;
/// The longest message type (`t`) there is, with room.
const MAX_TYPE: u32 = 16;
/// The longest reason a page gives for a failed `token.get`.
const MAX_ANSWER_ERROR: u32 = 1024;

/// What a field may hold beyond what its Rust type says, and how it is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// A string's fewest UTF-16 units.
    pub min: u32,
    /// A string's most UTF-16 units (measured on the JS string, before any copy).
    pub max: u32,
    /// The type's default (`false`, `0`) is left out of the message, and an absent field
    /// reads as it.
    pub omit_default: bool,
    /// An optional field's `None` is written as `null` rather than left out.
    pub null: bool,
}

impl Rule {
    /// Whatever the type takes.
    pub const ANY: Rule = Rule { min: 0, max: u32::MAX, omit_default: false, null: false };
    /// See [`Rule::omit_default`].
    pub const OMIT_DEFAULT: Rule = Rule { omit_default: true, ..Rule::ANY };
    /// See [`Rule::null`].
    pub const NULL: Rule = Rule { null: true, ..Rule::ANY };

    /// This rule, with `None` written as `null`.
    const fn or_null(self) -> Rule {
        Rule { null: true, ..self }
    }
}

/// A string of `min` to `max` UTF-16 units.
const fn text(min: u32, max: u32) -> Rule {
    Rule { min, max, ..Rule::ANY }
}

/// A field's value type: how it is written into a message and read back out.
pub trait Field: Sized {
    /// The value as written, or `None` to leave the field out.
    fn write(&self, rule: Rule) -> Option<JsValue>;
    /// Reads the field (`undefined` when absent). `Err(None)`: not what [`Field::expected`]
    /// says; `Err(Some(e))`: refused with an error of its own.
    fn read(v: JsValue, rule: Rule) -> Result<Self, Option<Error>>;
    /// What the field must be, for the refusal's message ("a boolean").
    fn expected(rule: Rule) -> String;
}

/// The protocol version, carried by a hello and a welcome: reading another one is
/// [`ProtocolError::VersionMismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version;

impl Field for Version {
    fn write(&self, _: Rule) -> Option<JsValue> {
        Some(PROTOCOL_VERSION.into())
    }
    fn read(v: JsValue, _: Rule) -> Result<Self, Option<Error>> {
        match v.as_f64() {
            Some(n) if n == f64::from(PROTOCOL_VERSION) => Ok(Version),
            Some(n) => Err(Some(Error::Protocol(ProtocolError::VersionMismatch { got: n.clamp(0.0, f64::from(u32::MAX)) as u32, want: PROTOCOL_VERSION }))),
            None => Err(None),
        }
    }
    fn expected(_: Rule) -> String {
        "the protocol version, a number".into()
    }
}

impl Field for JsValue {
    fn write(&self, _: Rule) -> Option<JsValue> {
        Some(self.clone())
    }
    fn read(v: JsValue, _: Rule) -> Result<Self, Option<Error>> {
        Ok(v)
    }
    fn expected(_: Rule) -> String {
        "any value".into()
    }
}

impl Field for String {
    fn write(&self, _: Rule) -> Option<JsValue> {
        Some(JsValue::from_str(self))
    }
    fn read(v: JsValue, rule: Rule) -> Result<Self, Option<Error>> {
        match v.dyn_ref::<js_sys::JsString>() {
            Some(s) if (rule.min..=rule.max).contains(&s.length()) => v.as_string().ok_or(None),
            _ => Err(None),
        }
    }
    fn expected(rule: Rule) -> String {
        match rule {
            Rule { max: u32::MAX, .. } => "a string".into(),
            Rule { min: 0, max, .. } => ["a string of at most ", &decimal(max.into()), " characters"].concat(),
            Rule { min, max, .. } => ["a string of ", &decimal(min.into()), " to ", &decimal(max.into()), " characters"].concat(),
        }
    }
}

impl Field for bool {
    fn write(&self, rule: Rule) -> Option<JsValue> {
        (*self || !rule.omit_default).then(|| JsValue::from_bool(*self))
    }
    fn read(v: JsValue, rule: Rule) -> Result<Self, Option<Error>> {
        match v.as_bool() {
            None if v.is_undefined() && rule.omit_default => Ok(false),
            b => b.ok_or(None),
        }
    }
    fn expected(_: Rule) -> String {
        "a boolean".into()
    }
}

/// A whole number from 0 to `max` (as a JS number).
fn whole(v: &JsValue, max: f64) -> Option<f64> {
    v.as_f64().and_then(|n| whole_number(n, max))
}

/// `n`, if it is a whole number from 0 to `max`.
fn whole_number(n: f64, max: f64) -> Option<f64> {
    (n.fract() == 0.0 && (0.0..=max).contains(&n)).then_some(n)
}

impl Field for u32 {
    fn write(&self, _: Rule) -> Option<JsValue> {
        Some((*self).into())
    }
    fn read(v: JsValue, _: Rule) -> Result<Self, Option<Error>> {
        whole(&v, f64::from(u32::MAX)).map(|n| n as u32).ok_or(None)
    }
    fn expected(_: Rule) -> String {
        "an integer".into()
    }
}

/// The largest count a message carries: below 2^53, so a JS number holds it exactly.
const MAX_COUNT: f64 = 9e15;

impl Field for u64 {
    fn write(&self, rule: Rule) -> Option<JsValue> {
        (*self != 0 || !rule.omit_default).then(|| JsValue::from(*self as f64))
    }
    fn read(v: JsValue, rule: Rule) -> Result<Self, Option<Error>> {
        if v.is_undefined() && rule.omit_default {
            return Ok(0);
        }
        whole(&v, MAX_COUNT).map(|n| n as u64).ok_or(None)
    }
    fn expected(_: Rule) -> String {
        "an integer".into()
    }
}

impl Field for ErrorCode {
    fn write(&self, _: Rule) -> Option<JsValue> {
        Some(self.as_str().into())
    }
    fn read(v: JsValue, _: Rule) -> Result<Self, Option<Error>> {
        v.as_string().and_then(|s| ErrorCode::from_wire(&s)).ok_or(None)
    }
    fn expected(_: Rule) -> String {
        "an error code".into()
    }
}

/// An optional field: absent or `null` is `None`, and `None` is left out (or, with
/// [`Rule::null`], written as `null`).
impl<T: Field> Field for Option<T> {
    fn write(&self, rule: Rule) -> Option<JsValue> {
        match self {
            Some(v) => v.write(rule),
            None => rule.null.then_some(JsValue::NULL),
        }
    }
    fn read(v: JsValue, rule: Rule) -> Result<Self, Option<Error>> {
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            T::read(v, rule).map(Some)
        }
    }
    fn expected(rule: Rule) -> String {
        T::expected(rule) + ", or null"
    }
}

/// Field `wire` of message `tag`, read under `rule`.
fn field<T: Field>(v: &JsValue, tag: &'static str, wire: &'static str, rule: Rule) -> Result<T, Error> {
    value(get(v, wire), tag, wire, rule)
}

/// `v` as field `wire` of message `tag`, read under `rule`.
fn value<T: Field>(v: JsValue, tag: &'static str, wire: &'static str, rule: Rule) -> Result<T, Error> {
    T::read(v, rule).map_err(|e| refused(e, tag, wire, T::expected, rule))
}

/// The error for a refused field: its own, or one that says what the field must be. (Not
/// generic: one copy for every field type.)
#[cold]
#[inline(never)]
fn refused(own: Option<Error>, tag: &str, wire: &str, expected: fn(Rule) -> String, rule: Rule) -> Error {
    own.unwrap_or_else(|| Error::Protocol(ProtocolError::BadMessage([tag, "'s ", wire, " must be ", &expected(rule)].concat())))
}

thread_local! {
    /// The protocol's names as JS strings, each made once: giving JavaScript a Rust string
    /// decodes its UTF-8 on the JS side (`TextDecoder.decode`), which took about as long
    /// as the rest of a send's encoding in `npm run bench:tab`'s profile. Keyed by the
    /// literal's address and length; only the `&'static str` names of this module go in,
    /// so it holds at most one entry per name.
    static NAMES: RefCell<Vec<((usize, usize), JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// How many names [`NAMES`] holds (a test's check that it stops growing).
pub fn names_made() -> usize {
    NAMES.with_borrow(Vec::len)
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A message object: plain data, as a port's structured clone makes it (no getters, no
    /// setters, no proxy) or as [`messages!`]'s `encode` builds it. So its fields are read and
    /// written as `o[k]` and `o[k] = v`, which cannot throw, rather than with `Reflect`,
    /// whose `catch` wraps every call in a `try` in the glue.
    type Plain;
    #[wasm_bindgen(method, structural, indexing_getter)]
    fn field(this: &Plain, key: &JsValue) -> JsValue;
    #[wasm_bindgen(method, structural, indexing_setter)]
    fn set_field(this: &Plain, key: &JsValue, value: &JsValue);
}

/// Field `wire` of message object `v` (`undefined` when absent). `v` is an object
/// ([`message_type`] checks it first).
fn get(v: &JsValue, wire: &'static str) -> JsValue {
    v.unchecked_ref::<Plain>().field(&name(wire))
}

/// The protocol name `name` as a JS string ([`NAMES`]).
#[inline(never)]
fn name(name: &'static str) -> JsValue {
    let key = (name.as_ptr() as usize, name.len());
    NAMES.with_borrow_mut(|names| match names.iter().find(|(k, _)| *k == key) {
        Some((_, v)) => v.clone(),
        None => {
            let v = JsValue::from_str(name);
            names.push((key, v.clone()));
            v
        }
    })
}

/// Writes field `wire` into `o` unless the value is left out.
fn put<T: Field>(o: &js_sys::Object, wire: &'static str, value: &T, rule: Rule) {
    if let Some(v) = value.write(rule) {
        o.unchecked_ref::<Plain>().set_field(&name(wire), &v);
    }
}

/// The `t` of a control message, if it is a string of at most [`MAX_TYPE`] units (read on
/// the JS side: a 100 MB `t` is not copied).
fn message_type(v: &JsValue) -> Result<String, Error> {
    if !v.is_object() {
        return Err(Error::Protocol(ProtocolError::BadMessage("expected a string, an ArrayBuffer, or an object with a \"t\" field".into())));
    }
    String::read(get(v, "t"), text(1, MAX_TYPE)).map_err(|_| Error::Protocol(ProtocolError::BadMessage("the object has no \"t\" field naming a message type".into())))
}

/// Whether a message on a port is a data frame (string, `ArrayBuffer` or typed array)
/// rather than a control object.
pub fn is_frame(v: &JsValue) -> bool {
    v.is_string() || is_binary(v)
}

/// Whether `v` is an `ArrayBuffer` or a typed array (a binary frame).
fn is_binary(v: &JsValue) -> bool {
    v.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(v)
}

/// What one value on a port is. Each question is a call into JS, so they are asked in the
/// order of how often the answer is yes: a text frame (the most common message either way)
/// is told by one call, an acknowledgement (a number, worker → page) by two, a batch by
/// three towards a page and two towards the worker (which is asked nothing about numbers).
#[derive(Clone, Copy)]
enum Shape {
    Frame,
    Number(f64),
    Batch,
    /// Anything else: a control message, or garbage.
    Other,
}

/// `v`'s [`Shape`]; `numbers`: whether this direction has a message posted as a number (a
/// number on the other is [`Shape::Other`], refused as any non-object).
fn shape(v: &JsValue, numbers: bool) -> Shape {
    if v.is_string() {
        return Shape::Frame;
    }
    if numbers {
        if let Some(n) = v.as_f64() {
            return Shape::Number(n);
        }
    }
    if js_sys::Array::is_array(v) {
        Shape::Batch
    } else if is_binary(v) {
        Shape::Frame
    } else {
        Shape::Other
    }
}

/// A message posted as a number (see [`messages!`]): `n` as its field `wire`, a `u32`.
fn number(n: f64, tag: &'static str, wire: &'static str) -> Result<u32, Error> {
    whole_number(n, f64::from(u32::MAX)).map(|n| n as u32).ok_or_else(|| refused(None, tag, wire, u32::expected, Rule::ANY))
}

/// One post holding `messages` (encoded), in order: the message itself when there is one, an
/// array when there are several, nothing when there are none.
pub fn post_of(mut messages: Vec<JsValue>) -> Option<JsValue> {
    match messages.len() {
        0 => None,
        1 => messages.pop(),
        _ => Some(messages.into_iter().collect::<js_sys::Array>().into()),
    }
}

/// Calls `each` for every message of one post, in order, with the message as posted and as
/// read. An array inside an array is refused, and the messages around it are still read.
fn read_post<M>(post: &JsValue, numbers: bool, decode: fn(&JsValue, Shape) -> Result<M, Error>, mut each: impl FnMut(&JsValue, Result<M, Error>)) {
    match shape(post, numbers) {
        Shape::Batch => {
            for item in post.unchecked_ref::<js_sys::Array>().iter() {
                let msg = decode(&item, shape(&item, numbers));
                each(&item, msg);
            }
        }
        one => each(post, decode(post, one)),
    }
}

/// Declares the messages of one direction: the enum, with a `Frame` variant for data frames,
/// and its `encode`, `decode` and `read_post`. Each message is
/// `Name = "tag" [as CONST] [, "wire" = Constant] [, number field] { field: Type = "wire" [rule], … }`:
/// a constant (a unit struct that is a [`Field`], like [`Version`]) is written into every
/// such message and checked first when one is read; a field's rule (a [`Rule`]) is
/// `Rule::ANY` when left out. Fields are read in the order declared. A message with
/// `number field` (one field, a `u32`, named as on the wire; at most one such message per
/// direction) is posted as that number alone, and a number posted is read as it.
macro_rules! messages {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident {
            $(
                $(#[$vmeta:meta])*
                $Var:ident = $tag:literal $(as $CONST:ident)? $(, $cwire:literal = $Const:ident)? $(, number $num:ident)? {
                    $(
                        $(#[$fmeta:meta])*
                        $field:ident : $Ty:ty = $wire:literal $([$rule:expr])?
                    ),* $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $Enum {
            /// A data frame, passed on untouched.
            Frame(JsValue),
            $( $(#[$vmeta])* $Var { $( $(#[$fmeta])* $field: $Ty, )* }, )*
        }

        impl $Enum {
            /// Every message's wire name (`t`), in declaration order.
            pub const TAGS: &'static [&'static str] = &[$($tag),*];
            $($(
                /// This message's wire name.
                pub const $CONST: &'static str = $tag;
            )?)*

            /// The message's wire name; `None` for a data frame.
            pub fn tag(&self) -> Option<&'static str> {
                match self {
                    $Enum::Frame(_) => None,
                    $( $Enum::$Var { .. } => Some($tag), )*
                }
            }

            /// The message as posted on a port.
            pub fn encode(&self) -> JsValue {
                match self {
                    $Enum::Frame(data) => data.clone(),
                    $(
                        #[allow(unused_variables, unreachable_code)]
                        $Enum::$Var { $($field),* } => {
                            $( return (*$num).into(); )?
                            let o = js_sys::Object::new();
                            o.unchecked_ref::<Plain>().set_field(&name("t"), &name($tag));
                            $( put(&o, $cwire, &$Const, Rule::ANY); )?
                            $( put(&o, $wire, $field, messages!(@rule $($rule)?)); )*
                            o.into()
                        }
                    )*
                }
            }

            /// Whether a message of this direction is posted as a number.
            const NUMBERS: bool = false $($( || !stringify!($num).is_empty() )?)*;

            /// Reads one message (not a post of several: see `read_post`). Never panics:
            /// every malformed shape is a [`ProtocolError::BadMessage`] saying which field
            /// must be what, a hello of another version a [`ProtocolError::VersionMismatch`].
            pub fn decode(v: &JsValue) -> Result<$Enum, Error> {
                $Enum::decode_shaped(v, shape(v, $Enum::NUMBERS))
            }

            /// [`Self::decode`], `v`'s [`Shape`] known.
            fn decode_shaped(v: &JsValue, shape: Shape) -> Result<$Enum, Error> {
                match shape {
                    Shape::Frame => return Ok($Enum::Frame(v.clone())),
                    Shape::Batch => return Err(Error::Protocol(ProtocolError::BadMessage("a batch holds messages, not batches".into()))),
                    #[allow(unused_variables)]
                    Shape::Number(n) => {
                        $($( return Ok($Enum::$Var { $num: number(n, $tag, stringify!($num))? }); )?)*
                    }
                    Shape::Other => {}
                }
                let t = message_type(v)?;
                match t.as_str() {
                    $(
                        $tag => {
                            $( field::<$Const>(v, $tag, $cwire, Rule::ANY)?; )?
                            Ok($Enum::$Var { $( $field: field(v, $tag, $wire, messages!(@rule $($rule)?))?, )* })
                        }
                    )*
                    other => Err(Error::Protocol(ProtocolError::BadMessage(["unknown message type ", &tabmux_core::text::quote_escaped(other)].concat()))),
                }
            }

            /// Calls `each` for every message of one post, in order, with the message as
            /// posted and as read (see [`post_of`]).
            pub fn read_post(post: &JsValue, each: impl FnMut(&JsValue, Result<$Enum, Error>)) {
                read_post(post, $Enum::NUMBERS, $Enum::decode_shaped, each)
            }
        }
    };
    (@rule) => { Rule::ANY };
    (@rule $rule:expr) => { $rule };
}

messages! {
    /// A message from a page to the worker (or to the in-page engine).
    pub enum ToWorker {
        /// Attach to `options.url`.
        Hello = "hello" as HELLO, "v" = Version {
            /// The page's release: the build id of the worker files it was built with (a hash
            /// made by scripts/build.mjs; `None` reads as "dev"). A worker of another release
            /// refuses the hello.
            build: Option<String> = "build" [text(1, MAX_BUILD)],
            /// The page's id (several clients in one page share it).
            tab_id: String = "tabId" [text(1, MAX_TAB_ID)],
            /// The `connect()` options as the page passed them; the worker validates them.
            options: JsValue = "options",
            /// A Web Lock the page holds while it lives: granted to the worker, the page is gone.
            lock: Option<String> = "lock" [text(1, MAX_LOCK)],
            /// The page's last token (its own `setToken`, or the worker's last word), in a hello
            /// to a replacement worker (never echoed).
            token: Option<String> = "token" [text(0, MAX_TOKEN_BYTES as u32)],
            /// The number of the change `token` came from (0 when absent): the newest of the
            /// tabs' wins ([`tabmux_core::engine::TokenClaim`]).
            token_gen: u64 = "gen" [Rule::OMIT_DEFAULT],
            /// With `sequence` on, in a hello to a replacement worker: the last sequence number
            /// this page delivered. The new worker resumes the stream after the lowest of them.
            seq: Option<u64> = "seq",
        },
        /// Answered with [`ToTab::Stats`].
        Stats = "stats" {
            /// Echoed in the answer.
            id: u32 = "id",
        },
        /// Try now if the socket is not open or opening.
        Reconnect = "reconnect" {},
        /// This client is going away, having handled `handled` of the frames posted to it
        /// (data and topic frames since it attached). The worker hands what it posted past that
        /// to the next page of the same endpoint (`tabmux_core::away`).
        Bye = "bye" {
            /// Frames handled in all; `None` when the page does not say.
            handled: Option<u64> = "handled",
        },
        /// The page's liveness lock from now on. Without one, the page is about to let its lock
        /// go while it stays (before an unload that may keep it in the back/forward cache): the
        /// release is not its death. With one, watch that lock again.
        Liveness = "lock" {
            /// The lock the page now holds, or none.
            lock: Option<String> = "lock" [text(1, MAX_LOCK)],
        },
        /// The page has this token (debounced across tabs); none signs out (at once, for every
        /// tab). The message never repeats the token.
        Token = "token" {
            /// The token (never logged or echoed), or none.
            token: Option<String> = "token" [text(0, MAX_TOKEN_BYTES as u32).or_null()],
        },
        /// The page's `token.get` answered question `req` ([`ToTab::AskToken`]) with a token,
        /// with none (signed out), or failed (`error`, which wins over `token`).
        TokenAnswer = "answer" {
            /// The question.
            req: u64 = "req",
            /// The token, or none.
            token: Option<String> = "token" [text(0, MAX_TOKEN_BYTES as u32).or_null()],
            /// Why there is no token, when `token.get` failed.
            error: Option<String> = "error" [text(0, MAX_ANSWER_ERROR)],
        },
        /// The page saw the browser go online or offline.
        Online = "online" {
            /// Online or not.
            online: bool = "online",
        },
        /// The page became visible or hidden. Also said right after the hello, so the worker
        /// knows each page's state.
        Visible = "visible" {
            /// Visible or hidden; a page of this release always says which, and none reads as
            /// visible.
            visible: Option<bool> = "visible",
        },
        /// This client has (`on`) or no longer has an exclusive handler for frames without a
        /// topic, or for `topic` (which it subscribed to).
        Exclusive = "exclusive" {
            /// The topic, or none for frames without one.
            topic: Option<String> = "topic" [text(0, MAX_TOPIC_BYTES as u32)],
            /// Registered or dropped.
            on: bool = "on",
        },
        /// Send `data`; answered [`ToTab::Sent`] once written, or an error with this id.
        Send = "send" {
            /// The page's request id.
            id: u32 = "id",
            /// The frame (string, `ArrayBuffer` or typed array; the engine refuses anything else).
            data: JsValue = "data",
            /// The page made this send on hearing of its last acknowledgements: answer it
            /// without waiting for a post to go with (`tabmux_core::ack_hold`). Left out when
            /// not.
            prompt: bool = "now" [Rule::OMIT_DEFAULT],
        },
        /// The page has handled `total` frames (data and topic frames) from this worker in all,
        /// said after every `tabmux_core::backlog::DRAIN_EVERY` of them. A page that stops
        /// saying it is not posted more than the backlog's bound.
        Drained = "drained" {
            /// Frames handled since the hello, a multiple of `DRAIN_EVERY`.
            total: u64 = "n",
        },
        /// Subscribe to a topic (the engine checks it further).
        Subscribe = "subscribe" {
            /// The topic.
            topic: String = "topic" [text(0, MAX_TOPIC_BYTES as u32)],
        },
        /// Unsubscribe from a topic.
        Unsubscribe = "unsubscribe" {
            /// The topic.
            topic: String = "topic" [text(0, MAX_TOPIC_BYTES as u32)],
        },
        /// Answered with [`ToTab::History`].
        History = "history" {
            /// The page's request id.
            id: u32 = "id",
            /// The topic, or none for frames without one.
            topic: Option<String> = "topic" [text(0, MAX_TOPIC_BYTES as u32)],
        },
    }
}

messages! {
    /// A message from the worker (or the in-page engine) to a page.
    pub enum ToTab {
        /// The hello was accepted.
        Welcome = "welcome", "v" = Version {
            /// The id of this client in the engine.
            client_id: u32 = "clientId",
        },
        /// The Web Lock the worker holds for life.
        Alive = "alive" {
            /// Its name.
            lock: String = "lock",
        },
        /// The endpoint's status (see `tabmux_core::Status`).
        Status = "status" {
            /// The status object.
            status: JsValue = "status",
        },
        /// The answer to [`ToWorker::Stats`].
        Stats = "stats" {
            /// The request's id.
            id: u32 = "id",
            /// The stats object.
            stats: JsValue = "stats",
            /// The engine's wasm memory, in bytes.
            memory_bytes: u32 = "memoryBytes",
        },
        /// A send with this id was written on the socket. Posted as the id alone, a number
        /// (the message's `number` form): the message a tab gets most after frames is then
        /// no object to build, clone and read.
        Sent = "sent", number id {
            /// The page's request id.
            id: u32 = "id",
        },
        /// Sequence numbers were skipped.
        Gap = "gap" {
            /// The first missing number.
            from: u64 = "from",
            /// The last missing number.
            to: u64 = "to",
        },
        /// Something went wrong. The worker script's shim writes this one by hand too (a
        /// crash, a wasm that would not load), with the codes of [`ErrorCode`].
        Error = "error" {
            /// The stable code.
            code: ErrorCode = "code",
            /// The human message.
            message: String = "message",
            /// The request this answers, if any.
            id: Option<u32> = "id" [Rule::NULL],
            /// Why, alone (the worker's crash report says what the browser said), where there
            /// is a why apart from the message.
            reason: Option<String> = "reason",
        },
        /// The answer to [`ToWorker::History`].
        History = "history" {
            /// The request's id.
            id: u32 = "id",
            /// The frames, oldest first (a JS array).
            frames: JsValue = "frames",
        },
        /// A frame of a topic this client subscribed to; with `one`, this client's exclusive
        /// handlers of the topic run for it too.
        Topic = "topic" {
            /// The topic.
            topic: String = "topic",
            /// The frame, untouched.
            data: JsValue = "data",
            /// Whether this client was chosen for its exclusive handlers
            /// (`tabmux_core::leader`); left out when not, so every other subscriber's
            /// message stays as small as it was.
            one: bool = "one" [Rule::OMIT_DEFAULT],
        },
        /// A data frame for every `message` listener, and for this client's exclusive ones: it
        /// was chosen among the tabs (`tabmux_core::leader`).
        One = "one" {
            /// The frame, untouched.
            data: JsValue = "data",
        },
        /// This client leads its endpoint from now on, or no longer.
        Leader = "leader" {
            /// Whether it leads.
            leader: bool = "leader",
        },
        /// This page fell too far behind (it stopped handling frames) and `missed` frames were
        /// not posted to it; it receives again from here.
        Lagged = "lagged" {
            /// Frames not posted to this page.
            missed: u64 = "missed",
        },
        /// A debug-log event (`tabmux_core::LogEvent`), only to a client with `debug` (or a
        /// `logger`).
        Log = "log" {
            /// The event object.
            event: JsValue = "event",
        },
        /// Call `token.get` and answer with [`ToWorker::TokenAnswer`].
        AskToken = "ask" {
            /// The question.
            req: u64 = "req",
        },
        /// The endpoint's token now (none after a sign-out) and the number of that change; the
        /// page carries both to a replacement worker.
        Token = "token" {
            /// The token, or none.
            token: Option<String> = "token" [Rule::NULL],
            /// The change's number.
            gen: u64 = "gen",
        },
    }
}

impl ToTab {
    /// An error report for `e`.
    pub fn error(e: &Error, id: Option<u32>) -> ToTab {
        ToTab::Error { code: e.kind(), message: e.message(), id, reason: e.reason().map(String::from) }
    }
}

impl ToWorker {
    /// A [`ToWorker::TokenAnswer`] for question `req`: the token, none, or why there is none.
    pub fn answer(req: u64, result: Result<Option<String>, String>) -> ToWorker {
        match result {
            Ok(token) => ToWorker::TokenAnswer { req, token, error: None },
            Err(e) => ToWorker::TokenAnswer { req, token: None, error: Some(e) },
        }
    }
}
