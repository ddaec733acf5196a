//! RFC 9440: the client certificate a TLS-terminating proxy passes on, as a Structured Field
//! byte sequence (`Client-Cert: :<base64 DER>:`), and its chain (`Client-Cert-Chain`, a list
//! of byte sequences). Parsed with `sfv`; read only from trusted proxies (the caller decides).

use http::{HeaderMap, HeaderName};
use rustls::pki_types::CertificateDer;
use sfv::{BareItem, Item, List, ListEntry};

use crate::auth::AuthFailure;

/// `Client-Cert-Chain` (RFC 9440 §2.3).
const CHAIN: &str = "client-cert-chain";

/// At most this many intermediates are read from the chain header.
const MAX_CHAIN: usize = 8;

/// The certificate chain in `name` (end entity first, then `Client-Cert-Chain`'s
/// certificates): `None` without the header, `Invalid` when either header is not what RFC
/// 9440 says (more than one line, not a byte sequence, empty).
pub(super) fn read(
    headers: &HeaderMap,
    name: &HeaderName,
) -> Result<Option<Vec<CertificateDer<'static>>>, AuthFailure> {
    let mut lines = headers.get_all(name).iter();
    let Some(line) = lines.next() else {
        return Ok(None);
    };
    if lines.next().is_some() {
        return Err(AuthFailure::Invalid);
    }
    let item: Item = sfv::Parser::new(line.as_bytes())
        .parse()
        .map_err(|_| AuthFailure::Invalid)?;
    let BareItem::ByteSequence(der) = item.bare_item else {
        return Err(AuthFailure::Invalid);
    };
    if der.is_empty() {
        return Err(AuthFailure::Invalid);
    }
    let mut chain = vec![CertificateDer::from(der)];
    let mut chain_lines = headers.get_all(CHAIN).iter().peekable();
    if chain_lines.peek().is_some() {
        // A list may span lines: they are one list joined by commas (RFC 9651 §4.2).
        let joined = chain_lines
            .map(|l| l.as_bytes())
            .collect::<Vec<_>>()
            .join(&b","[..]);
        let list: List = sfv::Parser::new(&joined)
            .parse()
            .map_err(|_| AuthFailure::Invalid)?;
        if list.len() > MAX_CHAIN {
            return Err(AuthFailure::Invalid);
        }
        for entry in list {
            match entry {
                ListEntry::Item(Item {
                    bare_item: BareItem::ByteSequence(der),
                    ..
                }) if !der.is_empty() => chain.push(CertificateDer::from(der)),
                _ => return Err(AuthFailure::Invalid),
            }
        }
    }
    Ok(Some(chain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn client_cert() -> HeaderName {
        HeaderName::from_static("client-cert")
    }

    #[test]
    fn byte_sequences_per_rfc_9440() {
        let chain = read(&headers(&[("client-cert", ":AQID:")]), &client_cert())
            .unwrap()
            .unwrap();
        assert_eq!(chain.len(), 1);
        assert_eq!(chain[0].as_ref(), &[1, 2, 3]);
        let chain = read(
            &headers(&[
                ("client-cert", ":AQID:"),
                ("client-cert-chain", ":BAU=:, :Bg==:"),
                ("client-cert-chain", ":Bw==:"),
            ]),
            &client_cert(),
        )
        .unwrap()
        .unwrap();
        let ders: Vec<&[u8]> = chain.iter().map(|c| c.as_ref()).collect();
        assert_eq!(ders, [&[1, 2, 3][..], &[4, 5], &[6], &[7]]);
        assert_eq!(read(&HeaderMap::new(), &client_cert()), Ok(None));
    }

    /// RFC 9440 Appendix A's `Client-Cert` (the certificate of "BC", issued by "LA
    /// Intermediate CA", SAN email `bdc@example.com`), one line.
    const RFC_9440_CLIENT_CERT: &str = ":MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAxMTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIwADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMCBsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1wbGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMjeSkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=:";

    #[test]
    fn rfc_9440_example() {
        let chain = read(
            &headers(&[("client-cert", RFC_9440_CLIENT_CERT)]),
            &client_cert(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(chain.len(), 1);
        let der = chain[0].as_ref();
        assert_eq!(der.len(), 428);
        use super::super::identity::{name, Identity};
        assert_eq!(
            name(der, Identity::SanEmail).as_deref(),
            Some("bdc@example.com")
        );
        assert_eq!(name(der, Identity::SubjectCn).as_deref(), Some("BC"));
        assert_eq!(name(der, Identity::SanUri), None);
    }

    #[test]
    fn anything_else_is_invalid() {
        for lines in [
            &[("client-cert", "AQID")][..],
            &[("client-cert", "\"AQID\"")],
            &[("client-cert", "::")],
            &[("client-cert", ":AQID:, :AQID:")],
            &[("client-cert", ":AQID:"), ("client-cert", ":AQID:")],
            &[("client-cert", ":not base64!:")],
            &[("client-cert", ":AQID:"), ("client-cert-chain", "token")],
        ] {
            assert_eq!(
                read(&headers(lines), &client_cert()),
                Err(AuthFailure::Invalid),
                "{lines:?}"
            );
        }
    }
}
