//! The self-signed certificates: a CA made for this one installation and a serving
//! certificate it signs for the Service's DNS names.

use super::ManifestError;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use std::time::{Duration, SystemTime};

/// Longest validity accepted: the CA key sits in a Secret, so it should not outlive a
/// reasonable rotation schedule, and the dates must stay within what X.509 encodes.
pub const MAX_VALIDITY_DAYS: u32 = 3650;

/// How far back `notBefore` is set, so that nodes whose clock runs behind the machine that
/// rendered the manifests still accept the certificate.
const CLOCK_SKEW: Duration = Duration::from_secs(3600);

const DAY: u64 = 86_400;

/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z, the last instant X.509 dates (and
/// the date library under rcgen) represent.
const LAST_ENCODABLE: u64 = 253_402_300_799;

/// A CA certificate and a serving certificate and key it signed, all PEM.
///
/// Hand one to [`Certificates::Provided`](super::Certificates::Provided) to render
/// manifests with certificates made elsewhere (an organisation's PKI, or a test's fixed
/// material for reproducible output).
#[derive(Clone, PartialEq, Eq)]
pub struct ServingTls {
    /// The CA certificate the API server trusts (`caBundle`, and `ca.crt` in the Secret).
    pub ca_pem: String,
    /// The serving certificate (`tls.crt`); may be followed by intermediates.
    pub cert_pem: String,
    /// The serving certificate's private key (`tls.key`).
    pub key_pem: String,
}

/// Never prints the private key, so options and errors can be logged.
impl std::fmt::Debug for ServingTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingTls")
            .field("ca_pem", &self.ca_pem)
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl ServingTls {
    /// Generates a fresh CA and serving certificate, valid from now for `validity_days`.
    pub fn generate(
        namespace: &str,
        name: &str,
        validity_days: u32,
    ) -> Result<ServingTls, ManifestError> {
        Self::generate_at(namespace, name, validity_days, SystemTime::now())
    }

    /// Generates a fresh CA and serving certificate as if the time were `now`: valid from an
    /// hour before it (clock skew) until `validity_days` after it.
    ///
    /// Both keys are ECDSA P-256. The CA may sign end-entity certificates only (path length
    /// 0); the serving certificate names the Service ([`service_dns_names`]) and is for
    /// server authentication only.
    pub fn generate_at(
        namespace: &str,
        name: &str,
        validity_days: u32,
        now: SystemTime,
    ) -> Result<ServingTls, ManifestError> {
        let (not_before, not_after) = validity(validity_days, now)?;

        let mut ca = CertificateParams::default();
        ca.distinguished_name = rcgen::DistinguishedName::new();
        ca.distinguished_name
            .push(DnType::CommonName, format!("{name}.{namespace} webhook CA"));
        ca.distinguished_name
            .push(DnType::OrganizationName, "Palisade");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = not_before.into();
        ca.not_after = not_after.into();
        let ca_key = new_key()?;
        let ca_cert = ca.self_signed(&ca_key).map_err(certificate)?;

        let names = service_dns_names(namespace, name);
        let mut leaf = CertificateParams::new(names.clone()).map_err(certificate)?;
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(first) = names.first() {
            leaf.distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = not_before.into();
        leaf.not_after = not_after.into();
        let leaf_key = new_key()?;
        let issuer = Issuer::new(ca, ca_key);
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(certificate)?;

        Ok(ServingTls {
            ca_pem: ca_cert.pem(),
            cert_pem: leaf_cert.pem(),
            key_pem: leaf_key.serialize_pem(),
        })
    }
}

/// The names the serving certificate must cover. The API server calls
/// `NAME.NAMESPACE.svc`; the others serve clients inside the cluster (and assume the
/// default `cluster.local` domain).
pub fn service_dns_names(namespace: &str, name: &str) -> Vec<String> {
    vec![
        format!("{name}.{namespace}.svc"),
        format!("{name}.{namespace}.svc.cluster.local"),
        format!("{name}.{namespace}"),
        name.to_string(),
    ]
}

fn validity(days: u32, now: SystemTime) -> Result<(SystemTime, SystemTime), ManifestError> {
    if days == 0 || days > MAX_VALIDITY_DAYS {
        return Err(ManifestError::InvalidOption {
            option: "validity_days",
            reason: format!("{days} is not between 1 and {MAX_VALIDITY_DAYS}"),
        });
    }
    let out_of_range = || ManifestError::Certificate("the clock is outside 1970-9999".into());
    let not_before = now
        .checked_sub(CLOCK_SKEW)
        .filter(|t| *t >= SystemTime::UNIX_EPOCH)
        .ok_or_else(out_of_range)?;
    let not_after = now
        .checked_add(Duration::from_secs(u64::from(days) * DAY))
        .filter(|t| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() <= LAST_ENCODABLE)
        })
        .ok_or_else(out_of_range)?;
    Ok((not_before, not_after))
}

fn new_key() -> Result<KeyPair, ManifestError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(certificate)
}

fn certificate(error: rcgen::Error) -> ManifestError {
    ManifestError::Certificate(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_bounded() {
        let now = SystemTime::now();
        assert!(validity(0, now).is_err());
        assert!(validity(MAX_VALIDITY_DAYS + 1, now).is_err());
        assert!(validity(MAX_VALIDITY_DAYS, now).is_ok());
        // Dates X.509 cannot encode are errors, not panics in the date library.
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(LAST_ENCODABLE);
        assert!(validity(1, far).is_err());
        assert!(validity(1, SystemTime::UNIX_EPOCH).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let tls = ServingTls {
            ca_pem: "ca".into(),
            cert_pem: "cert".into(),
            key_pem: "SECRET".into(),
        };
        assert!(!format!("{tls:?}").contains("SECRET"));
    }
}
