//! RFC 8705 §3: certificate-bound access tokens. A JWT's `cnf.x5t#S256` (base64url, no
//! padding, of the SHA-256 of the client certificate's DER) binds it to that certificate; it
//! is accepted only on a request presenting it.

use base64::Engine as _;
use http::request::Parts;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::auth::{AuthFailure, Principal};
use crate::perimeter::Perimeter;

use super::MtlsVerifier;

/// base64url without padding, as RFC 8705 writes thumbprints; trailing bits are allowed,
/// since RFC 8705 §3.1's own example has some (it decodes to the same 32 bytes as the
/// canonical spelling, which is what is compared).
const THUMBPRINT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// The `cnf.x5t#S256` thumbprint of `claims`: `Some(None)` when the token names none, `None`
/// (refuse the token) when `cnf` or the thumbprint is malformed.
pub(crate) fn confirmation_x5t(claims: &Map<String, Value>) -> Option<Option<[u8; 32]>> {
    let Some(cnf) = claims.get("cnf") else {
        return Some(None);
    };
    let Some(x5t) = cnf.as_object()?.get("x5t#S256") else {
        return Some(None);
    };
    let bytes = THUMBPRINT.decode(x5t.as_str()?).ok()?;
    Some(Some(bytes.try_into().ok()?))
}

/// `principal` when its token is not bound to a certificate, or is bound to the certificate
/// this request presents (compared in constant time); `Invalid` otherwise.
pub(crate) fn check_binding(
    mtls: Option<&MtlsVerifier>,
    perimeter: &Perimeter,
    parts: &Parts,
    principal: Principal,
) -> Result<Principal, AuthFailure> {
    let Some(bound) = principal.certificate_thumbprint() else {
        return Ok(principal);
    };
    let presented = super::presented(mtls, perimeter, parts)?.ok_or(AuthFailure::Invalid)?;
    if bool::from(presented.thumbprint().ct_eq(&bound)) {
        Ok(principal)
    } else {
        Err(AuthFailure::Invalid)
    }
}

/// For [`JwtVerifier::authenticate`](crate::jwt::JwtVerifier::authenticate), outside the
/// secure router: the certificate of the TLS connection only.
pub(crate) fn check_connection_binding(
    parts: &Parts,
    principal: Principal,
) -> Result<Principal, AuthFailure> {
    let Some(bound) = principal.certificate_thumbprint() else {
        return Ok(principal);
    };
    match parts.extensions.get::<super::ClientCertificate>() {
        Some(presented) if bool::from(presented.thumbprint().ct_eq(&bound)) => Ok(principal),
        _ => Err(AuthFailure::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn rfc_8705_example_thumbprint() {
        // RFC 8705 §3.1's example confirmation claim.
        let c = claims(json!({
            "cnf": { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }
        }));
        let thumbprint = confirmation_x5t(&c).unwrap().unwrap();
        // The example's last character carries non-zero trailing bits; canonically it ends
        // in `0`, and both spell these 32 bytes.
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(thumbprint),
            "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"
        );
        assert_eq!(
            thumbprint[..4],
            [0x6f, 0x07, 0x0a, 0xd1],
            "the first bytes of the example's SHA-256"
        );
    }

    #[test]
    fn unbound_and_malformed_confirmations() {
        assert_eq!(confirmation_x5t(&claims(json!({}))), Some(None));
        assert_eq!(
            confirmation_x5t(&claims(json!({"cnf": {"jkt": "abc"}}))),
            Some(None)
        );
        for bad in [
            json!({"cnf": "x"}),
            json!({"cnf": {"x5t#S256": 5}}),
            json!({"cnf": {"x5t#S256": "short"}}),
            json!({"cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2="}}),
            json!({"cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5/lESsXE8o9ltc05O89jdN+dg2"}}),
        ] {
            assert_eq!(confirmation_x5t(&claims(bad.clone())), None, "{bad}");
        }
    }
}
