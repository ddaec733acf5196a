//! An upload contract in words, for the inventory and the OpenAPI document.

use crate::policy::byte_size;
use crate::policy::part::PartSpec;

/// `multipart: `file` (image/png, image/jpeg; ≤ 1 MiB), `caption` (text; ≤ 1 KiB, optional)
/// (≤ 1028 KiB)`, or `None` for an endpoint without `multipart`.
pub(crate) fn describe(parts: Option<&[PartSpec]>, body_limit: Option<usize>) -> Option<String> {
    let parts = parts?;
    let listed: Vec<String> = parts.iter().map(describe_part).collect();
    let mut text = format!("multipart: {}", listed.join(", "));
    if let Some(limit) = body_limit {
        text.push_str(&format!(" (≤ {} in all)", byte_size(limit)));
    }
    Some(text)
}

/// `` `file` (image/png, image/jpeg; ≤ 1 MiB) ``: no `|`, which would split a Markdown cell.
pub(crate) fn describe_part(part: &PartSpec) -> String {
    let kind = if part.is_file() {
        part.types.join(", ")
    } else {
        "text".to_owned()
    };
    let optional = if part.optional { ", optional" } else { "" };
    format!(
        "`{}` ({kind}; ≤ {}{optional})",
        part.name,
        byte_size(part.max)
    )
}
