//! Event listeners, copy-on-write so a listener may add or remove listeners while called.


use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The events a client emits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Event {
    Message,
    Status,
    Error,
    Gap,
    Leader,
    /// Exclusive `message` listeners: called only for the frames the worker chose this
    /// client for (`tabmux_core::leader`).
    One,
}

impl Event {
    pub fn parse(name: &str) -> Option<Event> {
        match name {
            "message" => Some(Event::Message),
            "status" => Some(Event::Status),
            "error" => Some(Event::Error),
            "gap" => Some(Event::Gap),
            "leader" => Some(Event::Leader),
            _ => None,
        }
    }
}

type List = Rc<Vec<(u32, js_sys::Function)>>;

#[derive(Default)]
pub struct Listeners {
    next: u32,
    message: List,
    status: List,
    error: List,
    gap: List,
    leader: List,
    one: List,
}

impl Listeners {
    fn list(&mut self, ev: Event) -> &mut List {
        match ev {
            Event::Message => &mut self.message,
            Event::Status => &mut self.status,
            Event::Error => &mut self.error,
            Event::Gap => &mut self.gap,
            Event::Leader => &mut self.leader,
            Event::One => &mut self.one,
        }
    }

    pub fn add(&mut self, ev: Event, f: js_sys::Function) -> u32 {
        self.next += 1;
        let id = self.next;
        let list = self.list(ev);
        let mut v: Vec<_> = list.as_ref().clone();
        v.push((id, f));
        *list = Rc::new(v);
        id
    }

    /// Removes a listener; returns the event it listened to, if it was there.
    pub fn remove(&mut self, id: u32) -> Option<Event> {
        let mut found = None;
        for ev in [Event::Message, Event::Status, Event::Error, Event::Gap, Event::Leader, Event::One] {
            let list = self.list(ev);
            if list.iter().any(|(i, _)| *i == id) {
                *list = Rc::new(list.iter().filter(|(i, _)| *i != id).cloned().collect());
                found = Some(ev);
            }
        }
        found
    }

    pub fn clear(&mut self) {
        *self = Listeners { next: self.next, ..Default::default() };
    }

    pub fn snapshot(&mut self, ev: Event) -> List {
        self.list(ev).clone()
    }
}

/// Calls every listener in `list` with `arg`; a listener that throws is reported to the
/// console and does not stop the others.
pub fn emit(list: &List, arg: &JsValue) -> usize {
    for (_, f) in list.iter() {
        if let Err(e) = f.call1(&JsValue::NULL, arg) {
            web_sys::console::error_2(&"tabmux: a listener threw:".into(), &e);
        }
    }
    list.len()
}

