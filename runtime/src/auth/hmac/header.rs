//! The `Authorization: HMAC-SHA256 …` header: parsed strictly, every parameter once.

use super::AuthFailure;
use super::*;

/// The four parameters of a well-formed header.
pub(super) struct Params<'a> {
    pub(super) key_id: &'a str,
    pub(super) timestamp: u64,
    pub(super) nonce: &'a str,
    pub(super) signature: [u8; 32],
}

pub(super) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(super) fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ows(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ows(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// Parses an `Authorization` value: `Missing` if it is not of this scheme, `Invalid` if it is
/// but malformed.
pub(super) fn parse_authorization(value: &[u8]) -> Result<Params<'_>, AuthFailure> {
    let value = trim_ows(value);
    let scheme_end = value.iter().position(|&b| is_ows(b)).unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case(SCHEME.as_bytes()) {
        return Err(AuthFailure::Missing);
    }
    if value.len() > MAX_HEADER_LEN {
        return Err(AuthFailure::Invalid);
    }
    let rest = std::str::from_utf8(&value[scheme_end..]).map_err(|_| AuthFailure::Invalid)?;

    let (mut key_id, mut timestamp, mut nonce, mut signature) = (None, None, None, None);
    for param in rest.split(',') {
        let param =
            std::str::from_utf8(trim_ows(param.as_bytes())).map_err(|_| AuthFailure::Invalid)?;
        let (name, quoted) = param.split_once('=').ok_or(AuthFailure::Invalid)?;
        let value = quoted
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(AuthFailure::Invalid)?;
        let slot = match name {
            "keyId" => &mut key_id,
            "timestamp" => &mut timestamp,
            "nonce" => &mut nonce,
            "signature" => &mut signature,
            _ => return Err(AuthFailure::Invalid),
        };
        if slot.replace(value).is_some() {
            return Err(AuthFailure::Invalid);
        }
    }
    let (Some(key_id), Some(timestamp), Some(nonce), Some(signature)) =
        (key_id, timestamp, nonce, signature)
    else {
        return Err(AuthFailure::Invalid);
    };

    let key_id_ok = (1..=MAX_KEY_ID_LEN).contains(&key_id.len())
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let nonce_ok = (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    // Decimal without leading zeros, so that the canonical request has one spelling of it.
    let timestamp_ok = (1..=MAX_TIMESTAMP_LEN).contains(&timestamp.len())
        && timestamp.bytes().all(|b| b.is_ascii_digit())
        && (timestamp == "0" || !timestamp.starts_with('0'));
    if !(key_id_ok && nonce_ok && timestamp_ok) {
        return Err(AuthFailure::Invalid);
    }
    let timestamp = timestamp.parse().map_err(|_| AuthFailure::Invalid)?;
    let signature = parse_signature(signature).ok_or(AuthFailure::Invalid)?;
    Ok(Params {
        key_id,
        timestamp,
        nonce,
        signature,
    })
}

/// Exactly 64 lowercase hex digits.
pub(super) fn parse_signature(hex: &str) -> Option<[u8; 32]> {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    if hex.len() != SIGNATURE_HEX_LEN {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}
