//! What the handler receives: the validated parts only.

use std::fmt;

use axum::extract::{FromRequest, Request};
use bytes::Bytes;

use crate::problem::Problem;

/// The validated parts of a multipart body, taken as the handler's last argument by an
/// endpoint that declares `multipart = [...]` (see the [module](super) documentation).
///
/// Every part in it was declared, is within its size limit and, for a file part, holds one of
/// its allowed types by its bytes; every part not `optional` is there.
#[derive(Clone, Default)]
pub struct MultipartForm {
    parts: Vec<Part>,
}

impl MultipartForm {
    pub(crate) fn new(parts: Vec<Part>) -> Self {
        MultipartForm { parts }
    }

    /// The part named `name`, if the request carried it (a required part always).
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// Takes the part named `name` out of the form.
    pub fn take(&mut self, name: &str) -> Option<Part> {
        let index = self.parts.iter().position(|p| p.name == name)?;
        Some(self.parts.remove(index))
    }

    /// Every part, in the order received.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }
}

impl fmt::Debug for MultipartForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.parts).finish()
    }
}

/// One validated part.
#[derive(Clone)]
pub struct Part {
    pub(crate) name: &'static str,
    pub(crate) content_type: &'static str,
    pub(crate) bytes: Bytes,
    pub(crate) file_name: Option<String>,
    pub(crate) text: bool,
}

impl Part {
    /// The part's name, as declared.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The content type: for a file part the one its bytes were recognised as (one of the
    /// part's `types`, and equal to what it declared); `text/plain` for a text part.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The content.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The content, owned.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// A text part's content (checked to be UTF-8); `None` for a file part.
    pub fn text(&self) -> Option<&str> {
        if self.text {
            std::str::from_utf8(&self.bytes).ok()
        } else {
            None
        }
    }

    /// The client's file name, [sanitised](super::sanitize_file_name): for display only,
    /// never a path. `None` when it sent none, or nothing was left of it.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The size of the content in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` when the content is empty (only a text part can be).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Debug for Part {
    /// Name, type, size and file name; never the content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .field("file_name", &self.file_name)
            .finish()
    }
}

impl<S: Send + Sync> FromRequest<S> for MultipartForm {
    type Rejection = Problem;

    /// The form the pipeline validated against the endpoint's `multipart` contract. Outside
    /// such an endpoint there is none, and the request is refused (500): `#[secure_endpoint]`
    /// does not compile a handler taking `MultipartForm` without `multipart`.
    async fn from_request(mut req: Request, _: &S) -> Result<Self, Problem> {
        req.extensions_mut()
            .remove::<MultipartForm>()
            .ok_or_else(Problem::internal)
    }
}
