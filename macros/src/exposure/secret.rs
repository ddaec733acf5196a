//! Which field names look secret: whole words and two-word phrases, unless the last word
//! describes the secret instead of holding it.

/// A field name looks secret when one of its words is one of these. Names are split into
/// lowercase words on `_`, `-`, other punctuation and camelCase boundaries (`passwordHash` and
/// `password_hash` are both `password hash`). Only whole words count: `hashtag`, `spinner`,
/// `tokenizer` and `tokens` (as in `tokens_used`, a count) do not look secret.
pub(crate) const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "hash",
    "hashed",
    "secret",
    "token",
    "ssn",
    "mfa",
    "otp",
    "totp",
    "salt",
    "credential",
    "credentials",
    "cvv",
    "pin",
    "privatekey",
    "apikey",
];

/// A field name also looks secret when two consecutive words are one of these phrases, as in
/// `api_key`, `apiKey`, `private_key_pem` or `aws_access_key`.
pub(crate) const SECRET_PHRASES: &[[&str; 2]] = &[
    ["api", "key"],
    ["private", "key"],
    ["access", "key"],
    ["signing", "key"],
    ["encryption", "key"],
    ["refresh", "token"],
    ["recovery", "code"],
    ["recovery", "codes"],
    ["backup", "code"],
    ["backup", "codes"],
    ["card", "number"],
];

/// A name whose *last* word is one of these describes a secret instead of holding it, and does
/// not look secret: `token_type` (OAuth's `"Bearer"`), `api_key_id`, `password_changed_at`,
/// `mfa_enabled`, `token_expires_at`, `otp_length`.
pub(crate) const DESCRIPTIVE_LAST_WORDS: &[&str] = &[
    "type", "kind", "id", "at", "enabled", "expires", "expiry", "count", "length",
];

/// The lowercase words of an identifier or serialized name (a leading `r#` is dropped).
pub(crate) fn words(name: &str) -> Vec<String> {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `apiKey` → api key; `APIKey` → api key; `sha256Hash` → sha256 hash; `SSN` → ssn.
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_is_lower) {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether a field named `name` looks like it holds a secret (see [`SECRET_WORDS`],
/// [`SECRET_PHRASES`] and [`DESCRIPTIVE_LAST_WORDS`]).
pub(crate) fn looks_secret(name: &str) -> bool {
    let words = words(name);
    if words
        .last()
        .is_some_and(|last| DESCRIPTIVE_LAST_WORDS.contains(&last.as_str()))
    {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words.windows(2).any(|pair| {
            SECRET_PHRASES
                .iter()
                .any(|p| pair[0] == p[0] && pair[1] == p[1])
        })
}

// ---- the derive --------------------------------------------------------------------------------
