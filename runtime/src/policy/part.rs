//! The upload contract: one declared `multipart/form-data` part (see [`multipart`]).
//!
//! [`multipart`]: crate::multipart

/// One part an endpoint declares: `part("file", types = [...], max = "1mb")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartSpec {
    /// The part's name (`name=` of its `Content-Disposition`).
    pub name: &'static str,
    /// The media types a file part may hold, decided from its bytes; empty for a text part.
    pub types: &'static [&'static str],
    /// The largest content of the part, in bytes.
    pub max: usize,
    /// `optional`: the part may be left out.
    pub optional: bool,
}

impl PartSpec {
    /// `true` for a file part (one with `types`), `false` for a text part.
    pub const fn is_file(&self) -> bool {
        !self.types.is_empty()
    }
}
