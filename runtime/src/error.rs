//! The configuration error every builder of the runtime reports (a leaf: it imports nothing of
//! the crate). Public at the crate root: every scheme's builder and the stores refuse with it.

use std::borrow::Cow;
use std::fmt;

/// A configuration mistake, reported when the verifier or issuer is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(Cow<'static, str>);

impl ConfigError {
    pub(crate) const fn new(what: &'static str) -> Self {
        ConfigError(Cow::Borrowed(what))
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}
