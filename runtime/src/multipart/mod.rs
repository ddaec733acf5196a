//! Uploads as a contract form: a `multipart/form-data` body whose parts the endpoint declares.
//!
//! ```text
//! #[secure_endpoint(
//!     auth = "jwt",
//!     allow = "authenticated",
//!     multipart = [part("file", types = ["image/png", "image/jpeg", "image/webp"], max = "1mb")]
//! )]
//! async fn put_avatar(principal: Principal, form: MultipartForm) -> ... {
//!     let file = form.part("file").expect("a required part is always there");
//!     // file.content_type() is the sniffed type, one of the three; file.bytes() the content.
//! }
//! ```
//!
//! Each `part("name", ...)` declares one part: a **file part** with `types = [...]` (the media
//! types it may hold, each one [`sniff`] recognises from its magic numbers), or a **text part**
//! without `types` (UTF-8 text, `text/plain`); `max = "1mb"` is its size limit (required);
//! `optional` lets it be left out. Before the handler runs, the pipeline reads the body
//! (under the endpoint's body limit: `body_limit`, by default the sum of the parts' `max`
//! plus 4 KiB per part for boundaries and headers) and admits it only when:
//!
//! - it is `multipart/form-data` with a boundary and not compressed (else **415**);
//! - the body is within the body limit (else **413**), and each part within its `max`
//!   (**413**, naming the part);
//! - every part has a name, and a declared one (an unknown part is a **422** naming it), no
//!   part comes twice (**422**: at most one part per declared name, so the part count is
//!   bounded by the declaration), and every part not `optional` is there (**422** naming the
//!   missing ones);
//! - a file part's content type, decided from its bytes ([`sniff`]: the `infer` crate's
//!   magic numbers, never the file name or the declared type), is one of its `types` and is
//!   exactly the type the part declares in its own `Content-Type` (else **415**): a script
//!   sent as `image/png` is not a PNG by its bytes, and a PNG declared as `image/jpeg` is a
//!   mismatch;
//! - a text part is UTF-8 and declares no type other than `text/plain` (else **422** / **415**).
//!
//! The handler then takes [`MultipartForm`]: only the validated parts, each with its sniffed
//! content type. A part's file name is never a path: [`Part::file_name`] is the
//! [sanitised](sanitize_file_name) last component (for display), and the raw name is not kept.
//! Every refusal is a problem (RFC 9457) and names the part, never echoes its content.

mod describe;
mod extract;
#[cfg(feature = "openapi")]
pub(crate) mod openapi;
mod read;
mod sniff;
#[cfg(test)]
mod tests;

pub(crate) use describe::describe;
pub use extract::{MultipartForm, Part};
pub use read::parse_form;
pub(crate) use read::read_form;
pub use sniff::{sanitize_file_name, sniff, SNIFFABLE_TYPES};

// Defined with the rest of the policy, which the upload contract is part of.
pub use crate::policy::part::PartSpec;
