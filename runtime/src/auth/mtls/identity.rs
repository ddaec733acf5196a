//! Which name of a client certificate is the principal, read with `x509-cert`.

use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
use x509_cert::der::oid::{AssociatedOid, ObjectIdentifier};
use x509_cert::der::{Decode, Tag, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

/// The longest certificate name accepted as a subject, in bytes.
const MAX_NAME_LEN: usize = 256;

/// `id-at-commonName` (RFC 4519).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// The certificate name that becomes the principal's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// The first URI of the subject alternative names (a SPIFFE id: `spiffe://…`).
    SanUri,
    /// The first DNS name of the subject alternative names.
    SanDns,
    /// The first email address (`rfc822Name`) of the subject alternative names.
    SanEmail,
    /// The subject's common name (`CN`), when there is exactly one.
    SubjectCn,
}

/// `identity`'s name in `der` (a certificate rustls already verified), if it has one that is
/// printable ASCII of at most [`MAX_NAME_LEN`] bytes.
pub(super) fn name(der: &[u8], identity: Identity) -> Option<String> {
    let certificate = Certificate::from_der(der).ok()?;
    let tbs = &certificate.tbs_certificate;
    let name = match identity {
        Identity::SubjectCn => {
            let mut names = tbs
                .subject
                .0
                .iter()
                .flat_map(|rdn| rdn.0.iter())
                .filter(|attribute| attribute.oid == COMMON_NAME);
            let attribute = names.next()?;
            if names.next().is_some() {
                // Two common names: which one is meant is not for this code to guess.
                return None;
            }
            let value = &attribute.value;
            match value.tag() {
                Tag::Utf8String => value.decode_as::<Utf8StringRef<'_>>().ok()?.to_string(),
                Tag::PrintableString => value
                    .decode_as::<PrintableStringRef<'_>>()
                    .ok()?
                    .to_string(),
                Tag::Ia5String => value.decode_as::<Ia5StringRef<'_>>().ok()?.to_string(),
                _ => return None,
            }
        }
        san => {
            let extension = tbs
                .extensions
                .as_deref()?
                .iter()
                .find(|e| e.extn_id == SubjectAltName::OID)?;
            let names = SubjectAltName::from_der(extension.extn_value.as_bytes()).ok()?;
            names.0.iter().find_map(|general| match (san, general) {
                (Identity::SanUri, GeneralName::UniformResourceIdentifier(s))
                | (Identity::SanDns, GeneralName::DnsName(s))
                | (Identity::SanEmail, GeneralName::Rfc822Name(s)) => Some(s.to_string()),
                _ => None,
            })?
        }
    };
    let printable = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    printable.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(configure: impl FnOnce(&mut rcgen::CertificateParams)) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        configure(&mut params);
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn each_identity_reads_its_name() {
        let der = certificate(|p| {
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "scraper");
            p.subject_alt_names = vec![
                rcgen::SanType::DnsName("scraper.internal".try_into().unwrap()),
                rcgen::SanType::URI("spiffe://example.org/scraper".try_into().unwrap()),
                rcgen::SanType::Rfc822Name("ops@example.org".try_into().unwrap()),
                rcgen::SanType::URI("spiffe://example.org/second".try_into().unwrap()),
            ];
        });
        assert_eq!(
            name(&der, Identity::SanUri).as_deref(),
            Some("spiffe://example.org/scraper")
        );
        assert_eq!(
            name(&der, Identity::SanDns).as_deref(),
            Some("scraper.internal")
        );
        assert_eq!(
            name(&der, Identity::SanEmail).as_deref(),
            Some("ops@example.org")
        );
        assert_eq!(name(&der, Identity::SubjectCn).as_deref(), Some("scraper"));
    }

    #[test]
    fn a_missing_or_unprintable_name_is_none() {
        let bare = certificate(|p| p.distinguished_name = rcgen::DistinguishedName::new());
        for identity in [
            Identity::SanUri,
            Identity::SanDns,
            Identity::SanEmail,
            Identity::SubjectCn,
        ] {
            assert_eq!(name(&bare, identity), None, "{identity:?}");
        }
        let cn_beside_others = certificate(|p| {
            p.distinguished_name.push(rcgen::DnType::CommonName, "a");
            p.distinguished_name
                .push(rcgen::DnType::OrganizationName, "o");
        });
        assert_eq!(
            name(&cn_beside_others, Identity::SubjectCn).as_deref(),
            Some("a")
        );
        let control = certificate(|p| {
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "evil\nname");
        });
        assert_eq!(name(&control, Identity::SubjectCn), None);
        let long = certificate(|p| {
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "x".repeat(300));
        });
        assert_eq!(name(&long, Identity::SubjectCn), None);
        assert_eq!(name(b"not a certificate", Identity::SubjectCn), None);
    }
}
