//! Answer text is encrypted at rest with XChaCha20-Poly1305 (an authenticated
//! cipher), so it cannot be read from the database file. The key comes from the
//! environment or a key file written by `mend keygen`; without it mend does not
//! start — there is no plaintext fallback.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Marks the format of stored ciphertext: `1`, sealed under the host key;
/// `2`, under a partner's data key, whose id follows.
const VERSION: u8 = 1;
const DATA_VERSION: u8 = 2;
/// `2 ‖ key id` (big-endian), authenticated with the text.
const DATA_HEADER: usize = 1 + 8;

/// Why a key could not be had or used, worded for the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no encryption key: run `mend keygen mend.key` once, then set MEND_KEY_FILE=mend.key (or MEND_KEY to its 64 hex characters)"
    )]
    Missing,
    #[error("the encryption key must be 64 hex characters (32 bytes); {0}")]
    Malformed(String),
    #[error("could not read the key file {0}: {1}")]
    Unreadable(String, String),
    #[error("the key file {0} can be read by other users; run `chmod 600 {0}`")]
    Exposed(String),
    #[error(
        "this encryption key is not the one the database was written with; use the original MEND_KEY / MEND_KEY_FILE"
    )]
    Wrong,
    #[error(
        "the keystore (MEND_KEYSTORE) is not the one this database's texts are sealed with; point MEND_KEYSTORE at the keystore it was written with (by default the database's path with .keys added)"
    )]
    OtherKeystore,
    #[error(
        "the keystore (MEND_KEYSTORE) already holds the keys of another database; give each database a keystore of its own"
    )]
    KeystoreTaken,
    #[error("{0} already exists; mend will not overwrite a key (answers written with it would become unreadable)")]
    Exists(String),
}

/// A 32-byte key. Never printed.
#[derive(Clone)]
pub struct Key([u8; KEY_BYTES]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    pub fn generate() -> Key {
        let mut k = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut k);
        Key(k)
    }

    pub fn from_hex(s: &str) -> Result<Key, KeyError> {
        let bytes = hex::decode(s.trim()).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let k: [u8; KEY_BYTES] =
            bytes.try_into().map_err(|b: Vec<u8>| KeyError::Malformed(format!("got {} bytes", b.len())))?;
        Ok(Key(k))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads a key file, refusing one other users could read. A systemd
    /// credential (a file in `$CREDENTIALS_DIRECTORY`) is taken as it is:
    /// systemd makes it readable by the service alone, through an ACL whose
    /// mask shows in the group bits.
    pub fn from_file(path: &Path) -> Result<Key, KeyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Unreadable(shown.clone(), e.to_string()))?;
        #[cfg(unix)]
        if !is_credential(path) {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| KeyError::Unreadable(shown.clone(), e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Exposed(shown));
            }
        }
        Key::from_hex(&text)
    }

    /// `MEND_KEY` (hex) or else `MEND_KEY_FILE`.
    pub fn from_env() -> Result<Key, KeyError> {
        match (std::env::var("MEND_KEY").ok().filter(|k| !k.trim().is_empty()), std::env::var_os("MEND_KEY_FILE")) {
            (Some(hex), _) => Key::from_hex(&hex),
            (None, Some(file)) if !file.is_empty() => Key::from_file(Path::new(&file)),
            _ => Err(KeyError::Missing),
        }
    }

    /// Writes a new key to `path`, readable by its owner only; never overwrites.
    pub fn write_new(path: &Path) -> Result<Key, KeyError> {
        use std::io::Write;
        let shown = path.display().to_string();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists(shown.clone()),
            _ => KeyError::Unreadable(shown.clone(), e.to_string()),
        })?;
        let key = Key::generate();
        writeln!(file, "{}", key.to_hex()).map_err(|e| KeyError::Unreadable(shown, e.to_string()))?;
        Ok(key)
    }
}

/// Encrypts and decrypts answer text, bound to where it is stored.
#[derive(Clone)]
pub struct Cipher(XChaCha20Poly1305);

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(…)")
    }
}

impl Cipher {
    pub fn new(key: &Key) -> Cipher {
        Cipher(XChaCha20Poly1305::new((&key.0).into()))
    }

    /// `version ‖ nonce ‖ ciphertext+tag`. `context` (e.g. the row it belongs
    /// to) is authenticated, so a ciphertext moved to another row fails to open.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: context })
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < 1 + NONCE_BYTES || sealed[0] != VERSION {
            return Err(KeyError::Wrong);
        }
        self.open_after(&sealed[1..], context)
    }

    /// `header ‖ nonce ‖ ciphertext+tag`, the header authenticated before `context`.
    fn seal_under(&self, header: &[u8], plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = [header, context].concat();
        let sealed = self
            .0
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: &aad })
            .expect("encryption of an in-memory buffer cannot fail");
        [header, &nonce, &sealed].concat()
    }

    fn open_after(&self, nonce_and_body: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
        if nonce_and_body.len() < NONCE_BYTES {
            return Err(KeyError::Wrong);
        }
        let (nonce, body) = nonce_and_body.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().expect("split at the nonce length");
        self.0.decrypt(&XNonce::from(nonce), Payload { msg: body, aad }).map_err(|_| KeyError::Wrong)
    }
}

/// A partner's own key: their texts are sealed under it, and it is sealed
/// under the host key in the keystore. Destroying it (`/forget`, `/couple
/// end`) makes every copy of those texts unreadable, wherever the copy is.
#[derive(Clone)]
pub struct DataKey {
    id: i64,
    cipher: Cipher,
    key: Key,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({}, …)", self.id)
    }
}

impl DataKey {
    /// A new key with a random id (never 0, never negative).
    pub fn generate() -> DataKey {
        let id = (rand::random::<u64>() >> 1).max(1) as i64;
        DataKey::from_key(id, Key::generate())
    }

    fn from_key(id: i64, key: Key) -> DataKey {
        DataKey { id, cipher: Cipher::new(&key), key }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    /// The key sealed under the host's, bound to its id.
    pub fn sealed_by(&self, host: &Cipher) -> Vec<u8> {
        host.seal(&self.key.0, &Self::context(self.id))
    }

    /// A key from the keystore, opened with the host's.
    pub fn open_with(host: &Cipher, id: i64, sealed: &[u8]) -> Result<DataKey, KeyError> {
        let bytes = host.open(sealed, &Self::context(id))?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| KeyError::Wrong)?;
        Ok(DataKey::from_key(id, Key(key)))
    }

    fn context(id: i64) -> Vec<u8> {
        format!("data-key:{id}").into_bytes()
    }

    fn header(&self) -> [u8; DATA_HEADER] {
        let mut h = [0u8; DATA_HEADER];
        h[0] = DATA_VERSION;
        h[1..].copy_from_slice(&self.id.to_be_bytes());
        h
    }

    /// `2 ‖ key id ‖ nonce ‖ ciphertext+tag`; `context` as for [`Cipher::seal`].
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        self.cipher.seal_under(&self.header(), plaintext, context)
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < DATA_HEADER || sealed[..DATA_HEADER] != self.header() {
            return Err(KeyError::Wrong);
        }
        self.cipher.open_after(&sealed[DATA_HEADER..], &[&sealed[..DATA_HEADER], context].concat())
    }
}

/// How a stored text is sealed, read from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedWith {
    /// The host key itself (texts written before data keys, the key check).
    Host,
    /// The data key with this id.
    Data(i64),
    Unknown,
}

pub fn sealed_with(sealed: &[u8]) -> SealedWith {
    match sealed.first() {
        Some(&VERSION) => SealedWith::Host,
        Some(&DATA_VERSION) if sealed.len() >= DATA_HEADER => {
            SealedWith::Data(i64::from_be_bytes(sealed[1..DATA_HEADER].try_into().expect("eight bytes")))
        }
        _ => SealedWith::Unknown,
    }
}

/// Whether `path` is one of the service's systemd credentials.
#[cfg(unix)]
fn is_credential(path: &Path) -> bool {
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty()) else { return false };
    match (std::fs::canonicalize(dir), std::fs::canonicalize(path)) {
        (Ok(dir), Ok(path)) => path.parent() == Some(dir.as_path()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_context() {
        let key = Key::generate();
        let c = Cipher::new(&key);
        let sealed = c.seal("our walk by the river".as_bytes(), b"d1s0");
        assert!(!sealed.windows(4).any(|w| w == b"walk"));
        assert_eq!(c.open(&sealed, b"d1s0").unwrap(), b"our walk by the river");
        assert_eq!(c.open(&sealed, b"d2s0"), Err(KeyError::Wrong), "moved to another row");
        assert_eq!(Cipher::new(&Key::generate()).open(&sealed, b"d1s0"), Err(KeyError::Wrong));
        assert_ne!(c.seal(b"same", b"x"), c.seal(b"same", b"x"), "a fresh nonce each time");
    }

    #[test]
    fn a_data_key_opens_only_its_own_texts_and_names_itself() {
        let host = Cipher::new(&Key::generate());
        let key = DataKey::generate();
        let sealed = key.seal(b"the kitchen, that evening", b"response:1:0");
        assert_eq!(sealed_with(&sealed), SealedWith::Data(key.id()));
        assert_eq!(key.open(&sealed, b"response:1:0").unwrap(), b"the kitchen, that evening");
        assert_eq!(key.open(&sealed, b"response:2:0"), Err(KeyError::Wrong), "moved to another row");
        assert_eq!(DataKey::generate().open(&sealed, b"response:1:0"), Err(KeyError::Wrong));
        // Its id is authenticated: a text relabelled to another key does not open.
        let mut relabelled = sealed.clone();
        relabelled[8] ^= 1;
        assert_eq!(key.open(&relabelled, b"response:1:0"), Err(KeyError::Wrong));
        // Through the keystore: sealed under the host key, bound to its id.
        let stored = key.sealed_by(&host);
        let back = DataKey::open_with(&host, key.id(), &stored).unwrap();
        assert_eq!(back.open(&sealed, b"response:1:0").unwrap(), b"the kitchen, that evening");
        assert!(DataKey::open_with(&host, key.id() + 1, &stored).is_err(), "a sealed key moved to another id");
        assert!(DataKey::open_with(&Cipher::new(&Key::generate()), key.id(), &stored).is_err());
        assert_eq!(sealed_with(&host.seal(b"x", b"y")), SealedWith::Host);
    }

    #[test]
    fn keys_round_trip_as_hex_and_never_print() {
        let key = Key::generate();
        assert_eq!(Key::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert_eq!(format!("{key:?}"), "Key(…)");
        assert!(matches!(Key::from_hex("abc"), Err(KeyError::Malformed(_))));
        assert!(matches!(Key::from_hex(&"ab".repeat(31)), Err(KeyError::Malformed(_))));
    }

    #[cfg(unix)]
    #[test]
    fn keygen_writes_an_owner_only_file_and_never_overwrites() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mend.key");
        let key = Key::write_new(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(Key::from_file(&path).unwrap().0, key.0);
        assert!(matches!(Key::write_new(&path), Err(KeyError::Exists(_))));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Key::from_file(&path), Err(KeyError::Exposed(_))));
    }
}
