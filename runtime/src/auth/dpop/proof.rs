//! One DPoP proof JWT (RFC 9449 §4.2), parsed and checked along §4.3.
//!
//! The signature is verified by jsonwebtoken's crypto (the JWT verifier's), with the public key
//! the proof carries in its `jwk` header. The JWK and its thumbprint (RFC 7638) are read here:
//! jsonwebtoken's `Jwk` parser accepts more than a proof may carry, and its thumbprint panics on
//! some curve and key-type mixes a client can send, so the few members a proof key has are
//! checked by hand.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::Refusal;
use crate::auth::strict_json;

/// Largest `DPoP` header value parsed, in bytes (an ES256 proof is about 500).
pub(crate) const MAX_PROOF_LEN: usize = 4096;
/// Longest `jti` accepted, in bytes (RFC 9449 §11.1: refuse needlessly large ones).
pub(crate) const MAX_JTI_LEN: usize = 128;
/// Longest `nonce` claim read, in bytes.
const MAX_NONCE_LEN: usize = 256;

/// The JWS algorithms a proof may use, as the `algs` challenge parameter lists them.
pub(crate) const ALGS: &str = "ES256 EdDSA";

/// The public key of a proof, checked: its algorithm and its RFC 7638 thumbprint.
pub(crate) struct ProofKey {
    pub(crate) alg: Algorithm,
    /// `base64url(SHA-256(canonical JWK))`: what `cnf.jkt` names.
    pub(crate) thumbprint: String,
    key: DecodingKey,
}

/// A proof whose signature verified; its claims are still to be compared with the request.
pub(crate) struct Proof {
    pub(crate) key: ProofKey,
    pub(crate) claims: Map<String, Value>,
}

/// The claims of a verified proof, read.
pub(crate) struct Claims<'a> {
    pub(crate) jti: &'a str,
    pub(crate) htm: &'a str,
    pub(crate) htu: &'a str,
    pub(crate) iat: u64,
    pub(crate) ath: Option<&'a str>,
    pub(crate) nonce: Option<&'a str>,
}

/// `base64url(SHA-256(token))`: the `ath` of a proof sent with `token` (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A base64url string (no padding) that decodes to exactly `len` bytes, canonically.
fn b64_bytes(value: &str, len: usize) -> bool {
    value.len() == (len * 4).div_ceil(3)
        && URL_SAFE_NO_PAD
            .decode(value)
            .is_ok_and(|bytes| bytes.len() == len)
}

/// The RFC 7638 thumbprint of a public JWK given as its members: the required members only,
/// in lexicographic order, without whitespace, SHA-256, base64url.
///
/// `EC` needs `crv`, `x`, `y`; `OKP` `crv`, `x`; `RSA` `e`, `n` (RSA is not accepted in proofs;
/// its thumbprint is computed for RFC 7638's own example). `None` for anything else, or a
/// required member that is not a string.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kty = member("kty")?;
    let names: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        // JSON string escaping of both name and value (RFC 7638 §3.3); the values of a
        // checked key are base64url, so this changes nothing for them.
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(member(name)?).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Step 5 and 7 of RFC 9449 §4.3: the `jwk` header is a public key for `alg`, one of
/// [`ALGS`].
fn proof_key(alg: &str, jwk: &Value) -> Result<ProofKey, Refusal> {
    let jwk = jwk
        .as_object()
        .ok_or(Refusal::proof("dpop_jwk_malformed"))?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(Refusal::proof("dpop_jwk_private"));
    }
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    // A JWK's own `alg`, when given, must be the header's.
    if jwk.get("alg").is_some_and(|a| a.as_str() != Some(alg)) {
        return Err(Refusal::proof("dpop_jwk_malformed"));
    }
    let (alg, key) = match (alg, member("kty"), member("crv")) {
        ("ES256", Some("EC"), Some("P-256")) => {
            let (Some(x), Some(y)) = (member("x"), member("y")) else {
                return Err(Refusal::proof("dpop_jwk_malformed"));
            };
            if !b64_bytes(x, 32) || !b64_bytes(y, 32) {
                return Err(Refusal::proof("dpop_jwk_malformed"));
            }
            let key = DecodingKey::from_ec_components(x, y)
                .map_err(|_| Refusal::proof("dpop_jwk_malformed"))?;
            (Algorithm::ES256, key)
        }
        ("EdDSA", Some("OKP"), Some("Ed25519")) => {
            let Some(x) = member("x") else {
                return Err(Refusal::proof("dpop_jwk_malformed"));
            };
            if !b64_bytes(x, 32) {
                return Err(Refusal::proof("dpop_jwk_malformed"));
            }
            let key = DecodingKey::from_ed_components(x)
                .map_err(|_| Refusal::proof("dpop_jwk_malformed"))?;
            (Algorithm::EdDSA, key)
        }
        ("ES256" | "EdDSA", _, _) => return Err(Refusal::proof("dpop_jwk_malformed")),
        _ => return Err(Refusal::proof("dpop_alg_refused")),
    };
    let thumbprint = jwk_thumbprint(jwk).ok_or(Refusal::proof("dpop_jwk_malformed"))?;
    Ok(ProofKey {
        alg,
        thumbprint,
        key,
    })
}

/// A base64url segment (no padding) holding one JSON object without duplicate members.
fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() {
        return None;
    }
    strict_json::object(&URL_SAFE_NO_PAD.decode(segment).ok()?)
}

/// `typ` is `dpop+jwt` (media types compare case-insensitively, `application/` optional).
fn is_dpop_typ(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ == "dpop+jwt" || typ == "application/dpop+jwt"
}

/// Steps 2 and 4–7 of RFC 9449 §4.3: one well-formed JWT, typed `dpop+jwt`, with an accepted
/// asymmetric `alg`, signed by the public key in its `jwk` header. With `expected_jkt`, the
/// key's thumbprint must be that before any signature work is done.
pub(crate) fn verify(proof: &str, expected_jkt: Option<&str>) -> Result<Proof, Refusal> {
    if proof.is_empty() || proof.len() > MAX_PROOF_LEN {
        return Err(Refusal::proof("dpop_proof_malformed"));
    }
    let mut segments = proof.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(Refusal::proof("dpop_proof_malformed"));
    };
    let header = decode_object(header_b64).ok_or(Refusal::proof("dpop_proof_malformed"))?;
    if !header
        .get("typ")
        .and_then(Value::as_str)
        .is_some_and(is_dpop_typ)
    {
        return Err(Refusal::proof("dpop_typ_wrong"));
    }
    // No extension is understood; no key may be fetched or chained.
    if ["crit", "jku", "x5u", "x5c", "b64", "zip"]
        .iter()
        .any(|name| header.contains_key(*name))
    {
        return Err(Refusal::proof("dpop_header_refused"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(Refusal::proof("dpop_alg_refused"))?;
    let jwk = header
        .get("jwk")
        .ok_or(Refusal::proof("dpop_jwk_malformed"))?;
    let key = proof_key(alg, jwk)?;
    if let Some(expected) = expected_jkt {
        // Public values, compared in constant time anyway.
        if !crate::auth::dpop::ct_eq(key.thumbprint.as_bytes(), expected.as_bytes()) {
            return Err(Refusal::token("dpop_key_mismatch"));
        }
    }
    let message_len = header_b64.len() + 1 + payload_b64.len();
    let verified = jsonwebtoken::crypto::verify(
        signature_b64,
        &proof.as_bytes()[..message_len],
        &key.key,
        key.alg,
    )
    .unwrap_or(false);
    if !verified {
        return Err(Refusal::proof("dpop_signature_invalid"));
    }
    let claims = decode_object(payload_b64).ok_or(Refusal::proof("dpop_proof_malformed"))?;
    Ok(Proof { key, claims })
}

impl Proof {
    /// Step 3: the required claims, of the right types.
    pub(crate) fn claims(&self) -> Result<Claims<'_>, Refusal> {
        let c = &self.claims;
        let string = |name: &str| c.get(name).and_then(Value::as_str);
        let jti = string("jti")
            .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
            .ok_or(Refusal::proof("dpop_claims_missing"))?;
        let htm = string("htm").ok_or(Refusal::proof("dpop_claims_missing"))?;
        let htu = string("htu").ok_or(Refusal::proof("dpop_claims_missing"))?;
        let iat = c
            .get("iat")
            .and_then(numeric_date)
            .ok_or(Refusal::proof("dpop_claims_missing"))?;
        let optional = |name: &str| -> Result<Option<&str>, Refusal> {
            match c.get(name) {
                None => Ok(None),
                Some(Value::String(s)) if s.len() <= MAX_NONCE_LEN => Ok(Some(s.as_str())),
                Some(_) => Err(Refusal::proof("dpop_claims_missing")),
            }
        };
        Ok(Claims {
            jti,
            htm,
            htu,
            iat,
            ath: optional("ath")?,
            nonce: optional("nonce")?,
        })
    }
}

/// A NumericDate: a non-negative number of seconds (fractions dropped).
fn numeric_date(value: &Value) -> Option<u64> {
    let n = value.as_number()?;
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f as u64)
    })
}
