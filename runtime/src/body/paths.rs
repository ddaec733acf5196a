//! Nested allowlists: `fields` entries are paths. `"user.email"` allows the key `email` inside
//! the object under `user`, `"items[].sku"` the key `sku` inside every object of the array
//! under `items` (`"m[][].x"`: arrays of arrays). A name without `.` or `[]` is a top-level
//! field, as before, and its value is not looked into.
//!
//! The check walks the body once with serde_json's deserializer, before anything is
//! deserialized into the handler's type, and stores nothing from the values. At every level a
//! path names, a key must be listed (else `unknown_fields`, naming its full path such as
//! `user.role` or `items[2].price`), may appear once (else `duplicate_field`), and a value the
//! paths go into must be an object (or an array, for `[]`), or `null`: a struct can be
//! deserialized from an array by position, which would set fields the allowlist never named
//! (else `invalid_body`, naming the path). A level is matched against the listed paths by
//! slicing them, without allocating; only a key that is not a listed leaf is looked up as a
//! parent. An allowlist without paths keeps the flat check ([`super::check_fields`]), whose
//! cost does not change.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{shown, KeyName, KeyOutcome, MAX_LISTED};

/// Longest path shown in a 422 (each key is cut to 64 characters too).
const MAX_PATH: usize = 256;

/// Checks a JSON body against `fields` (paths allowed).
pub(super) fn check(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
    fields: &[&str],
) -> Result<KeyOutcome, serde_json::Error> {
    let mut found = Found::default();
    let top = de::Deserializer::deserialize_any(
        &mut *de,
        Level {
            fields,
            prefix: "",
            trail: None,
            found: &mut found,
        },
    )?;
    Ok(if !top {
        KeyOutcome::NotAnObject
    } else if !found.unknown.is_empty() {
        KeyOutcome::Unknown(found.unknown)
    } else if let Some(name) = found.duplicate {
        KeyOutcome::Duplicate(name)
    } else if let Some((path, expected)) = found.shape {
        KeyOutcome::Shape(path, expected)
    } else {
        KeyOutcome::Ok
    })
}

/// What the walk found wrong, across every level.
#[derive(Default)]
struct Found {
    unknown: Vec<String>,
    duplicate: Option<String>,
    shape: Option<(String, &'static str)>,
}

/// One step of the path to a value: a key or an array index.
#[derive(Clone, Copy)]
enum Step<'t> {
    Key(&'t str),
    Index(usize),
}

/// The path to the current value, innermost last, written out only for an error.
#[derive(Clone, Copy)]
struct Trail<'t> {
    up: Option<&'t Trail<'t>>,
    step: Step<'t>,
}

/// `user.role`, `items[2].price`: each key cut to 64 characters, the whole to [`MAX_PATH`].
fn written(trail: Option<&Trail<'_>>, last: Option<&str>) -> String {
    let mut steps = Vec::new();
    let mut at = trail;
    while let Some(t) = at {
        steps.push(t.step);
        at = t.up;
    }
    let mut out = String::new();
    for step in steps.iter().rev().copied().chain(last.map(Step::Key)) {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&shown(key));
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
        if out.len() > MAX_PATH {
            let mut cut = MAX_PATH;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            break;
        }
    }
    out
}

/// The index of the listed leaf `prefix` + `key`, if any.
#[inline]
fn leaf(fields: &[&str], prefix: &str, key: &str) -> Option<usize> {
    if prefix.is_empty() {
        return fields.iter().position(|f| *f == key);
    }
    fields.iter().position(|f| {
        f.len() == prefix.len() + key.len() && f.starts_with(prefix) && f.ends_with(key)
    })
}

/// What a key that is not a leaf is: the index of the first path through it, the prefix of
/// the level below (`user.`, `items[].`) and how many arrays (`[]`) come before that level.
/// A path ending in `[]` (`tags[]`, refused by the macro) counts as a leaf: `arrays` is then
/// `None`.
fn parent<'f>(
    fields: &[&'f str],
    prefix: &str,
    key: &str,
) -> Option<(usize, &'f str, Option<usize>)> {
    fields.iter().enumerate().find_map(|(i, f)| {
        let rest = f.strip_prefix(prefix)?.strip_prefix(key)?;
        if !rest.starts_with(['.', '[']) {
            return None;
        }
        let mut after = rest;
        let mut arrays = 0;
        while let Some(r) = after.strip_prefix("[]") {
            after = r;
            arrays += 1;
        }
        if after.is_empty() {
            return Some((i, *f, None));
        }
        after.strip_prefix('.')?;
        let below = f.len() - after.len() + 1;
        Some((i, &f[..below], Some(arrays)))
    })
}

/// An object at a level of the paths: `prefix` is the part of the listed paths above it.
/// Yields `true` for an object, `false` for anything else (only the top level asks).
struct Level<'f, 'a, 't> {
    fields: &'a [&'f str],
    prefix: &'f str,
    trail: Option<&'t Trail<'t>>,
    found: &'a mut Found,
}

impl<'de> Visitor<'de> for Level<'_, '_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen: u64 = 0;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            let key = key.as_str();
            // A key holding the notation itself (`"user.email"` sent as one key) is no path.
            let plain = !key.contains(['.', '[', ']']);
            let (index, below) = match leaf(self.fields, self.prefix, key).filter(|_| plain) {
                Some(i) => (Some(i), None),
                None if !plain => (None, None),
                None => match parent(self.fields, self.prefix, key) {
                    Some((i, _, None)) => (Some(i), None),
                    Some((i, prefix, Some(arrays))) => (Some(i), Some((prefix, arrays))),
                    None => (None, None),
                },
            };
            match index {
                Some(i) if i < 64 => {
                    let bit = 1u64 << i;
                    if seen & bit != 0 && self.found.duplicate.is_none() {
                        self.found.duplicate = Some(written(self.trail, Some(key)));
                    }
                    seen |= bit;
                }
                Some(_) => {}
                None => {
                    if self.found.unknown.len() < MAX_LISTED {
                        let path = written(self.trail, Some(key));
                        if !self.found.unknown.contains(&path) {
                            self.found.unknown.push(path);
                        }
                    }
                }
            }
            match below {
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
                Some((prefix, arrays)) => {
                    let trail = Trail {
                        up: self.trail,
                        step: Step::Key(key),
                    };
                    map.next_value_seed(Node {
                        fields: self.fields,
                        prefix,
                        arrays,
                        trail: &trail,
                        found: &mut *self.found,
                    })?;
                }
            }
        }
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// A value the paths go into: `arrays` arrays, then an object at `prefix`; `null` anywhere
/// is accepted (an optional part), anything else is a shape error at `trail`.
struct Node<'f, 'a, 't> {
    fields: &'a [&'f str],
    prefix: &'f str,
    arrays: usize,
    trail: &'t Trail<'t>,
    found: &'a mut Found,
}

impl Node<'_, '_, '_> {
    fn expected(&self) -> &'static str {
        if self.arrays > 0 {
            "expected an array"
        } else {
            "expected an object"
        }
    }

    fn wrong(self) {
        if self.found.shape.is_none() {
            self.found.shape = Some((written(Some(self.trail), None), self.expected()));
        }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.arrays > 0 {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            self.wrong();
            return Ok(());
        }
        Level {
            fields: self.fields,
            prefix: self.prefix,
            trail: Some(self.trail),
            found: self.found,
        }
        .visit_map(map)
        .map(drop)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.arrays == 0 {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.wrong();
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            let trail = Trail {
                up: Some(self.trail),
                step: Step::Index(index),
            };
            let element = Node {
                fields: self.fields,
                prefix: self.prefix,
                arrays: self.arrays - 1,
                trail: &trail,
                found: &mut *self.found,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.wrong();
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.wrong();
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.wrong();
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.wrong();
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.wrong();
        Ok(())
    }
}

#[cfg(test)]
#[path = "paths_tests.rs"]
mod tests;
