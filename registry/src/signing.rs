//! ed25519 keys, their text files, and signatures over manifests.
//!
//! # Key files
//!
//! One line each; blank lines and lines starting with `#` are ignored, so a
//! file may carry a comment:
//!
//! ```text
//! qlp-ed25519-public <key-id> <base64 of the 32-byte public key>
//! qlp-ed25519-secret <key-id> <base64 of the 32-byte secret seed>
//! ```
//!
//! The key id is the first 16 hex characters of the blake3 digest of the
//! 32-byte public key; both files carry the id of the public key, and parsing
//! refuses a file whose id does not match its key (a hand-edited or
//! mismatched file). Base64 is the standard alphabet with padding, decoded
//! strictly.
//!
//! A key id is a *name*, not a credential: the policy looks the id up and
//! verifies with the public key *it* holds, so a key crafted to collide with
//! a trusted id gains nothing.
//!
//! # Signatures
//!
//! A [`Signature`] is `{ "key_id", "algorithm": "ed25519", "signature":
//! <base64 of 64 bytes> }`, made over [`Manifest::signing_message`]. A
//! package's signatures file is a JSON array of them
//! ([`Signature::list_to_json`]). Verification is ed25519 *strict*
//! (`verify_strict`): non-canonical signatures and small-order keys are
//! refused, so a signature cannot be re-encoded into a second valid one.
//!
//! The same keys sign the index of an air-gapped install bundle
//! ([`SecretKey::sign_bundle_index`]), over [`BUNDLE_INDEX_CONTEXT`] and the
//! index's bytes; the distinct context keeps a manifest signature and an
//! index signature from ever standing in for each other.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize as _, Zeroizing};

use crate::manifest::Manifest;
use crate::{Error, Result};

/// The only signature algorithm, as written in [`Signature::algorithm`].
pub const ALGORITHM: &str = "ed25519";

/// First word of a public key file.
pub const PUBLIC_KEY_TAG: &str = "qlp-ed25519-public";

/// First word of a secret key file.
pub const SECRET_KEY_TAG: &str = "qlp-ed25519-secret";

/// What an install bundle's index signature is made over, before the
/// index's bytes (see the module documentation).
pub const BUNDLE_INDEX_CONTEXT: &[u8] = b"qlp-bundle-index-v1\n";

fn bundle_index_message(index: &[u8]) -> Vec<u8> {
    let mut message = BUNDLE_INDEX_CONTEXT.to_vec();
    message.extend_from_slice(index);
    message
}

/// The most signatures one package may carry: rotation needs two or three,
/// and each costs a verification on every load.
pub const MAX_SIGNATURES: usize = 16;

/// The largest signatures file accepted (a signature is about 150 bytes).
pub const MAX_SIGNATURES_BYTES: usize = 16 * 1024;

/// The largest key file accepted (a key line is about 80 bytes; the rest is
/// room for comments).
pub const MAX_KEY_FILE_BYTES: usize = 4096;

/// A key's id: the first 16 hex characters of blake3 of its public key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// The id of a 32-byte ed25519 public key.
    pub fn of(public_key: &[u8; 32]) -> Self {
        Self(blake3::hash(public_key).to_hex()[..16].to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses an id as written by [`KeyId::as_str`].
    pub fn parse(s: &str) -> Result<Self> {
        Self::try_from(s.to_owned()).map_err(Error::InvalidKey)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KeyId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() == 16
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s))
        } else {
            Err(format!(
                "`{}` is not a key id (16 lower-case hex characters)",
                s.escape_debug()
            ))
        }
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

/// An ed25519 public key and its id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    id: KeyId,
    key: VerifyingKey,
}

impl PublicKey {
    /// A public key from its 32 bytes. Refuses points that are not on the
    /// curve and small-order ("weak") keys, for which signatures prove
    /// nothing.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidKey("not an ed25519 public key".into()))?;
        if key.is_weak() {
            return Err(Error::InvalidKey(
                "a small-order ed25519 key, which any signature matches".into(),
            ));
        }
        Ok(Self {
            id: KeyId::of(bytes),
            key,
        })
    }

    /// A public key from the base64 of its 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes: [u8; 32] = decode_32(text, "public key")?;
        Self::from_bytes(&bytes)
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.key.to_bytes())
    }

    /// Parses a public key file (see the module documentation).
    pub fn parse(text: &str) -> Result<Self> {
        let (id, b64) = parse_key_line(text, PUBLIC_KEY_TAG)?;
        let key = Self::from_base64(b64)?;
        if key.id.as_str() != id {
            return Err(Error::InvalidKey(format!(
                "the file names key {id} but holds key {}",
                key.id
            )));
        }
        Ok(key)
    }

    /// The public key file's text, one line.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_KEY_TAG} {} {}\n", self.id, self.to_base64())
    }

    /// Checks that `signature` is this key's over `manifest`. The error is
    /// the reason it is not, for [`crate::TrustError::BadSignature`].
    pub fn verify(&self, manifest: &Manifest, signature: &Signature) -> Result<(), String> {
        self.verify_message(&manifest.signing_message(), signature, "manifest")
    }

    /// Checks that `signature` is this key's over an install bundle's
    /// index (`index` being its exact bytes).
    pub fn verify_bundle_index(&self, index: &[u8], signature: &Signature) -> Result<(), String> {
        self.verify_message(&bundle_index_message(index), signature, "bundle index")
    }

    /// The reason `signature` is not this key's over `message` (the
    /// signing message of `what`), if it is not.
    fn verify_message(
        &self,
        message: &[u8],
        signature: &Signature,
        what: &str,
    ) -> Result<(), String> {
        if signature.key_id != self.id {
            return Err(format!(
                "it names key {}, not {}",
                signature.key_id, self.id
            ));
        }
        if signature.algorithm != ALGORITHM {
            return Err(format!(
                "unsupported algorithm `{}`",
                signature.algorithm.escape_debug()
            ));
        }
        let bytes: [u8; 64] = signature
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| format!("{} bytes, not 64", signature.signature.len()))?;
        let sig = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key
            .verify_strict(message, &sig)
            .map_err(|_| format!("the signature does not match the {what}"))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("id", &self.id).finish()
    }
}

/// An ed25519 signing key. Its bytes are wiped when it is dropped, and
/// `Debug` shows only its id.
pub struct SecretKey {
    id: KeyId,
    key: SigningKey,
}

impl SecretKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut_slice()).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self::from_seed(&seed))
    }

    /// The key for a 32-byte seed (the ed25519 "secret key").
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        Self {
            id: KeyId::of(&key.verifying_key().to_bytes()),
            key,
        }
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            id: self.id.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs a manifest (its [`Manifest::signing_message`]).
    pub fn sign(&self, manifest: &Manifest) -> Signature {
        Signature {
            key_id: self.id.clone(),
            algorithm: ALGORITHM.to_owned(),
            signature: self.key.sign(&manifest.signing_message()).to_vec(),
        }
    }

    /// Signs an install bundle's index (its exact bytes).
    pub fn sign_bundle_index(&self, index: &[u8]) -> Signature {
        Signature {
            key_id: self.id.clone(),
            algorithm: ALGORITHM.to_owned(),
            signature: self.key.sign(&bundle_index_message(index)).to_vec(),
        }
    }

    /// Parses a secret key file (see the module documentation).
    pub fn parse(text: &str) -> Result<Self> {
        let (id, b64) = parse_key_line(text, SECRET_KEY_TAG)?;
        let seed = Zeroizing::new(decode_32(b64, "secret key")?);
        let key = Self::from_seed(&seed);
        if key.id.as_str() != id {
            return Err(Error::InvalidKey(format!(
                "the file names key {id} but holds the secret of key {}",
                key.id
            )));
        }
        Ok(key)
    }

    /// The secret key file's text, one line, wiped when dropped.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut seed = self.key.to_bytes();
        let b64 = Zeroizing::new(BASE64.encode(seed));
        seed.zeroize();
        Zeroizing::new(format!("{SECRET_KEY_TAG} {} {}\n", self.id, b64.as_str()))
    }

    /// Writes the key file to a new file that only its owner may read
    /// (mode 0600 on Unix). An existing file is never overwritten.
    pub fn write_new_file(&self, path: &Path) -> Result<()> {
        use std::io::Write as _;
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(self.to_text().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A signature over a manifest's [`Manifest::signing_message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// The id of the key that made it; the trust policy supplies the key.
    pub key_id: KeyId,
    /// [`ALGORITHM`]; anything else does not verify.
    pub algorithm: String,
    /// The raw signature, base64 in JSON.
    #[serde(with = "base64_bytes")]
    pub signature: Vec<u8>,
}

impl Signature {
    /// A signatures file: a JSON array.
    pub fn list_to_json(signatures: &[Signature]) -> String {
        serde_json::to_string_pretty(signatures).expect("signatures always serialize")
    }

    /// Parses a signatures file, refusing more than [`MAX_SIGNATURES`] and
    /// files over [`MAX_SIGNATURES_BYTES`].
    pub fn list_from_json(bytes: &[u8]) -> Result<Vec<Signature>> {
        if bytes.len() > MAX_SIGNATURES_BYTES {
            return Err(Error::InvalidSignatures(format!(
                "{} bytes, over the {MAX_SIGNATURES_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let list: Vec<Signature> =
            serde_json::from_slice(bytes).map_err(|e| Error::InvalidSignatures(e.to_string()))?;
        check_signature_count(&list)?;
        Ok(list)
    }
}

pub(crate) fn check_signature_count(list: &[Signature]) -> Result<()> {
    if list.len() > MAX_SIGNATURES {
        return Err(Error::InvalidSignatures(format!(
            "{} signatures, over the limit of {MAX_SIGNATURES}",
            list.len()
        )));
    }
    Ok(())
}

/// The id and base64 of the one key line in a key file.
fn parse_key_line<'a>(text: &'a str, tag: &str) -> Result<(&'a str, &'a str)> {
    if text.len() > MAX_KEY_FILE_BYTES {
        return Err(Error::InvalidKey(format!(
            "the key file is over {MAX_KEY_FILE_BYTES} bytes"
        )));
    }
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let (Some(line), None) = (lines.next(), lines.next()) else {
        return Err(Error::InvalidKey(format!(
            "expected one line `{tag} <key-id> <base64>`"
        )));
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [t, id, b64] if *t == tag => {
            KeyId::parse(id)?;
            Ok((id, b64))
        }
        [t, ..] if *t == PUBLIC_KEY_TAG || *t == SECRET_KEY_TAG => Err(Error::InvalidKey(format!(
            "expected a `{tag}` line, found a `{t}` line"
        ))),
        _ => Err(Error::InvalidKey(format!(
            "expected one line `{tag} <key-id> <base64>`"
        ))),
    }
}

fn decode_32(text: &str, what: &str) -> Result<[u8; 32]> {
    let mut bytes = BASE64
        .decode(text)
        .map_err(|_| Error::InvalidKey(format!("the {what} is not valid base64")))?;
    let out = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| Error::InvalidKey(format!("the {what} is not 32 bytes")));
    bytes.zeroize();
    out
}

mod base64_bytes {
    use super::BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        BASE64
            .decode(text)
            .map_err(|e| serde::de::Error::custom(format!("the signature is not base64: {e}")))
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::testing::{key, manifest_for};
    use super::*;

    #[test]
    fn bundle_index_signatures_are_not_manifest_signatures() {
        let key = key(7);
        let index = br#"{"format":1,"entries":[]}"#;
        let signature = key.sign_bundle_index(index);
        let public = key.public_key();
        assert_eq!(public.verify_bundle_index(index, &signature), Ok(()));
        assert!(public.verify_bundle_index(b"{}", &signature).is_err());
        // A manifest signature does not sign an index, nor the reverse.
        let manifest = manifest_for("acme/x", "1.0.0", b"component");
        let on_manifest = key.sign(&manifest);
        assert!(public.verify_bundle_index(index, &on_manifest).is_err());
        let message = manifest.signing_message();
        let forged = key.sign_bundle_index(&message[crate::manifest::SIGNING_CONTEXT.len()..]);
        assert!(public.verify(&manifest, &forged).is_err());
    }

    #[test]
    fn sign_then_verify() {
        let k = key(1);
        let m = manifest_for("acme/rules", "1.0.0", b"component");
        let sig = k.sign(&m);
        assert_eq!(sig.algorithm, "ed25519");
        assert_eq!(sig.signature.len(), 64);
        k.public_key().verify(&m, &sig).unwrap();
    }

    #[test]
    fn a_changed_manifest_or_signature_does_not_verify() {
        let k = key(1);
        let m = manifest_for("acme/rules", "1.0.0", b"component");
        let sig = k.sign(&m);

        let mut changed = m.clone();
        changed
            .capabilities
            .insert("directory-write".parse().unwrap());
        assert!(k.public_key().verify(&changed, &sig).is_err());

        let mut flipped = sig.clone();
        flipped.signature[0] ^= 1;
        assert!(k.public_key().verify(&m, &flipped).is_err());

        let mut short = sig.clone();
        short.signature.pop();
        assert!(
            k.public_key()
                .verify(&m, &short)
                .unwrap_err()
                .contains("63 bytes")
        );

        let mut other_alg = sig.clone();
        other_alg.algorithm = "rsa".into();
        assert!(
            k.public_key()
                .verify(&m, &other_alg)
                .unwrap_err()
                .contains("algorithm")
        );

        // Another key, even one claiming the right id, does not verify.
        assert!(key(2).public_key().verify(&m, &sig).is_err());
    }

    #[test]
    fn the_signature_does_not_verify_as_a_bare_json_signature() {
        // Domain separation: the signature is over the context string too.
        let k = key(1);
        let m = manifest_for("acme/rules", "1.0.0", b"component");
        let sig = k.sign(&m);
        let bare =
            ed25519_dalek::Signature::from_bytes(sig.signature.as_slice().try_into().unwrap());
        assert!(
            k.public_key()
                .key
                .verify_strict(&m.canonical_bytes(), &bare)
                .is_err()
        );
    }

    #[test]
    fn key_files_round_trip() {
        let k = SecretKey::generate().unwrap();
        let text = k.to_text();
        assert!(text.starts_with(&format!("qlp-ed25519-secret {} ", k.id())));
        let back = SecretKey::parse(&text).unwrap();
        assert_eq!(back.id(), k.id());
        assert_eq!(back.public_key(), k.public_key());

        let public = k.public_key().to_text();
        assert!(public.starts_with(&format!("qlp-ed25519-public {} ", k.id())));
        assert_eq!(PublicKey::parse(&public).unwrap(), k.public_key());
        let commented = format!("# release key\n\n{public}");
        assert_eq!(PublicKey::parse(&commented).unwrap(), k.public_key());

        // The id is the first 16 hex of blake3 of the public key.
        assert_eq!(
            k.id().as_str(),
            &blake3::hash(&k.public_key().to_bytes()).to_hex()[..16]
        );
        assert!(!format!("{k:?}").contains(text.split(' ').nth(2).unwrap().trim()));
    }

    #[test]
    fn key_files_refuse_mismatches_and_junk() {
        let k = key(1);
        let other = key(2);
        let public = k.public_key();
        let swapped_id = format!("qlp-ed25519-public {} {}", other.id(), public.to_base64());
        assert!(matches!(
            PublicKey::parse(&swapped_id),
            Err(Error::InvalidKey(_))
        ));
        let secret_as_public = k.to_text().replace("secret", "public");
        assert!(PublicKey::parse(&secret_as_public).is_err());
        assert!(SecretKey::parse(&public.to_text()).is_err());
        for junk in [
            "",
            "qlp-ed25519-public",
            "qlp-ed25519-public 0123456789abcdef !!!",
            "qlp-ed25519-public 0123 AAAA",
            &format!("{}{}", public.to_text(), public.to_text()),
        ] {
            assert!(PublicKey::parse(junk).is_err(), "{junk:?}");
        }
        // The identity point is a small-order key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::from_bytes(&identity).is_err());
    }

    #[test]
    fn secret_key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("release.key");
        let k = key(3);
        k.write_new_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(key(4).write_new_file(&path).is_err());
        let back = SecretKey::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back.id(), k.id());
    }

    #[test]
    fn signature_lists_round_trip_and_are_bounded() {
        let m = manifest_for("acme/rules", "1.0.0", b"c");
        let sigs = vec![key(1).sign(&m), key(2).sign(&m)];
        let json = Signature::list_to_json(&sigs);
        assert_eq!(Signature::list_from_json(json.as_bytes()).unwrap(), sigs);

        let many = vec![sigs[0].clone(); MAX_SIGNATURES + 1];
        let json = serde_json::to_vec(&many).unwrap();
        assert!(matches!(
            Signature::list_from_json(&json),
            Err(Error::InvalidSignatures(_))
        ));
        assert!(
            Signature::list_from_json(br#"[{"key_id":"x","algorithm":"ed25519","signature":""}]"#)
                .is_err()
        );
    }
}
