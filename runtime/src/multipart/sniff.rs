//! A part's content type from its bytes, and its file name made harmless.

/// The media types an upload may be declared with: those [`sniff`] recognises by their magic
/// numbers. `#[secure_endpoint]` refuses any other in `types = [...]` at compile time (the
/// macro keeps the same list). Text formats (SVG, HTML, JSON, CSV) have no magic number, and
/// SVG and HTML carry scripts: they are not uploads of this kind.
pub const SNIFFABLE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "image/tiff",
    "application/pdf",
];

/// The content type of `bytes` by their magic numbers (the `infer` crate), if it is one of
/// [`SNIFFABLE_TYPES`]; `None` for anything else, an empty body included.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    SNIFFABLE_TYPES
        .iter()
        .copied()
        .find(|t| *t == kind.mime_type())
}

/// The most characters of a sanitised file name.
const MAX_FILE_NAME: usize = 100;

/// A client's file name as something to show, never a path: the last component after any `/`
/// or `\`, with every character that is not a letter, a digit, `.`, `-`, `_` or a space
/// replaced by `_` (control and format characters such as bidirectional overrides included),
/// leading and trailing dots and spaces removed (no `..`, no hidden files), at most
/// 100 characters. `None` when nothing is left.
///
/// Store uploads under names of your own (an id): even sanitised, a client's name is not a
/// safe key (two clients send `avatar.png`).
pub fn sanitize_file_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_FILE_NAME)
        .collect();
    let trimmed = cleaned.trim_matches(|c| c == '.' || c == ' ');
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}
