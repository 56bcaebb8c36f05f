//! A throw-away certificate authority and a leaf certificate for
//! `discord.com`, so a bot's reqwest client can trust the sim by adding one
//! extra root certificate while keeping the literal `https://discord.com` URLs.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::SimError;

/// Host names the leaf certificate is valid for.
const HOSTS: &[&str] =
    &["discord.com", "gateway.discord.gg", "cdn.discordapp.com", "media.discordapp.net", "localhost"];

pub(crate) struct Certificates {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub server: Arc<rustls::ServerConfig>,
}

fn tls_err(e: impl std::fmt::Display) -> SimError {
    SimError::Tls(e.to_string())
}

pub(crate) fn generate() -> Result<Certificates, SimError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params.distinguished_name.push(DnType::CommonName, "discord-sim throw-away CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(tls_err)?).map_err(tls_err)?;

    let mut leaf_params =
        CertificateParams::new(HOSTS.iter().map(|h| h.to_string()).collect::<Vec<_>>()).map_err(tls_err)?;
    leaf_params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    leaf_params.distinguished_name.push(DnType::CommonName, "discord.com");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    let leaf_key = KeyPair::generate().map_err(tls_err)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(tls_err)?;

    let chain = vec![leaf.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    // An explicit provider: another crate in the process (e.g. the bot's
    // reqwest) may enable a second one, which would make the default ambiguous.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    Ok(Certificates {
        ca_pem: ca.pem(),
        ca_der: CertificateDer::from(ca.der().to_vec()).to_vec(),
        server: Arc::new(server),
    })
}
