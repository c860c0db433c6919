//! The CMS `SignedData` a PAdES signature holds (ETSI EN 319 142-1 baseline
//! B-B, CAdES detached; B-T with a time-stamp token): over the SHA-256 digest of the signed bytes, signed
//! attributes `content-type`, `message-digest` and `signing-certificate-v2`,
//! and no `signing-time` (PAdES puts the claimed time in the signature
//! dictionary's `/M`); the signer identified by issuer and serial number,
//! and the chain included.

use super::{tsa, Algorithm, SignError, Signing};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// `SigningCertificateV2` (RFC 5035): binds the signature to its certificate.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `ESSCertIDv2` with the default hash algorithm (SHA-256), left out as DER requires.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: GeneralNames,
    serial_number: SerialNumber,
}

/// A DER `ContentInfo` holding the detached `SignedData` over `digest` (the
/// SHA-256 of the bytes a PDF signature's `/ByteRange` covers); with a TSA,
/// its time-stamp token over the signature value as an unsigned attribute.
pub fn signed_data(signing: Signing, digest: &[u8; 32]) -> Result<Vec<u8>, SignError> {
    let signer = signing.signer;
    let chain = signer.chain();
    let leaf_der = chain
        .first()
        .ok_or_else(|| SignError::Encode("no signing certificate".into()))?;
    let leaf = Certificate::from_der(leaf_der)?;
    let tbs = leaf.tbs_certificate();

    let attr = |oid, value: Any| -> Result<Attribute, SignError> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value])?,
        })
    };
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(leaf_der).to_vec())?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            },
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attr(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attr(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec())?)?,
        )?,
        attr(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    // The signature is over the DER of the attributes as a SET OF (RFC 5652, 5.4).
    let to_sign: [u8; 32] = Sha256::digest(signed_attrs.to_der()?).into();
    let signature = signer.sign_digest(&to_sign)?;
    let unsigned_attrs = match signing.tsa {
        Some(t) => {
            let token = t.stamp(&signature)?;
            Some(SetOfVec::try_from(vec![attr(
                tsa::ID_SIGNATURE_TIME_STAMP_TOKEN,
                Any::from_der(&token)?,
            )?])?)
        }
        None => None,
    };

    let signature_algorithm = match signer.algorithm() {
        Algorithm::RsaSha256 => AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA,
            parameters: Some(Any::null()),
        },
        Algorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
    };
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    };
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let certificates = chain
        .iter()
        .map(|c| Certificate::from_der(c).map(CertificateChoices::Certificate))
        .collect::<Result<Vec<_>, _>>()?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::from(SetOfVec::try_from(certificates)?)),
        crls: None,
        signer_infos: SignerInfos::from(SetOfVec::try_from(vec![info])?),
    };
    let content = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed)?,
    };
    Ok(content.to_der()?)
}
