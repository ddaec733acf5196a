//! The attribute's arguments by key: unknown and duplicate keys are reported once, here (as
//! serde's `Attr::set` does), and each value as read at parse time.

use syn::LitStr;

use crate::ctxt::Ctxt;
pub(crate) use crate::model::value_tokens;
use crate::model::{RawArg, Typed};
use crate::notation::unknown;
use crate::symbol::ALL_KEYS;

/// Each known key's first argument.
pub(crate) struct Args<'a> {
    slots: Vec<Option<&'a RawArg>>,
}

impl<'a> Args<'a> {
    /// Sorts `args` by key, reporting every unknown key (with a suggestion) and every repeated
    /// one; the first of a repeated key is kept.
    pub(crate) fn new(cx: &Ctxt, args: &'a [RawArg]) -> Self {
        let mut slots: Vec<Option<&RawArg>> = vec![None; ALL_KEYS.len()];
        for arg in args {
            let key = arg.key.to_string();
            match ALL_KEYS.iter().position(|k| *k == key) {
                Some(i) => {
                    if slots[i].is_some() {
                        cx.error_spanned_by(
                            &arg.key,
                            format!("duplicate key `{key}`; each key may appear once"),
                        );
                    } else {
                        slots[i] = Some(arg);
                    }
                }
                None => cx.error_spanned_by(&arg.key, unknown(&key, "key", ALL_KEYS)),
            }
        }
        Args { slots }
    }

    /// The argument of `key`, one of [`ALL_KEYS`].
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawArg> {
        let i = ALL_KEYS
            .iter()
            .position(|k| *k == key)
            .expect("a key of ALL_KEYS");
        self.slots[i]
    }

    /// The value of `key` as read at parse time (see [`RawArg::typed`]); the errors reading
    /// it are reported now, so each check reads its keys once, in its turn.
    pub(crate) fn typed(&self, cx: &Ctxt, key: &str) -> Option<&'a Typed> {
        let arg = self.get(key)?;
        if let Some(err) = &arg.error {
            cx.push(err.clone());
        }
        arg.typed.as_ref()
    }
}

/// The names of `roles`, `scopes` or `waive` as read (none when the value could not be).
pub(crate) fn strings(typed: Option<&Typed>) -> Vec<LitStr> {
    match typed {
        Some(Typed::Strings(list)) => list.clone(),
        _ => Vec::new(),
    }
}
