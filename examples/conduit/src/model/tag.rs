//! Tags: `GET /api/tags`.

use secure_endpoint::SafeResponse;
use serde::Serialize;

/// `{"tags": [...]}`: the tags of existing articles, most used first.
#[derive(Debug, Clone, Serialize, SafeResponse)]
pub struct TagList {
    /// The tag names.
    pub tags: Vec<String>,
}
