//! The on-disk cache of compiled components. A compiled component is native code that the process runs,
//! so a cache file is as powerful as the binary: anyone who can write one gets code executed on the next
//! start. Hence:
//!
//! * no cache unless the embedder or operator configures one ([`CacheConfig`]);
//! * the cache directory must be owned by the service's user and writable by nobody else (refused
//!   otherwise; created `0700` when missing); the same holds for the key file;
//! * every file carries an HMAC-SHA256 of its contents under a key kept **outside** the cache directory
//!   (created `0600` on first use): a file the service did not write is ignored and recompiled, never run;
//! * files are opened without following symbolic links, written to a fresh, exclusively created temporary
//!   file with an unpredictable name, and renamed into place.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// What a cache file starts with, before its MAC and the serialised component.
const MAGIC: &[u8; 8] = b"AOSCWAS1";
const KEY_BYTES: usize = 32;

/// Where compiled components are cached, and the file holding the key that authenticates them.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// The cache directory: owned by the service's user, writable by nobody else (created `0700` if missing).
    pub dir: PathBuf,
    /// Outside `dir` (a key inside the cache would authenticate nothing).
    pub key_file: PathBuf,
}

/// An opened, checked cache.
pub struct ComponentCache {
    dir: PathBuf,
    key: [u8; KEY_BYTES],
}

impl ComponentCache {
    /// Checks (or creates) the directory and the key; refuses either when another user could write it.
    pub fn open(config: &CacheConfig) -> anyhow::Result<Self> {
        let dir = &config.dir;
        if config.key_file.starts_with(dir) {
            bail!("the cache key file {} must not be inside the cache directory", config.key_file.display());
        }
        if std::fs::symlink_metadata(dir).is_err() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("creating {}", dir.display()))?;
        }
        check_private(dir, true)?;
        let key = load_or_create_key(&config.key_file)?;
        Ok(ComponentCache { dir: dir.clone(), key })
    }

    /// The component compiled from `wasm` by `engine`: from the cache when a file there is authentic,
    /// otherwise compiled (and cached).
    pub fn load_or_compile(&self, engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
        let path = self.dir.join(format!("account-engine-{}.cwasm", cache_name(engine, wasm)));
        match self.read(&path) {
            Ok(Some(serialized)) => {
                // SAFETY: the bytes carry a valid MAC under the service's own key, so they are exactly what
                // `Component::serialize` of an engine with the same compatibility hash (in the file name)
                // wrote; deserialisation checks that hash again.
                match unsafe { Component::deserialize(engine, &serialized) } {
                    Ok(component) => return Ok(component),
                    Err(e) => {
                        tracing::warn!(error = %e, path = %path.display(), "ignoring an unusable cached component")
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "ignoring a cached component that is not the service's own")
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = self.write(&path, &component.serialize()?) {
            tracing::warn!(error = %e, "could not cache the compiled component");
        }
        Ok(component)
    }

    /// The authenticated contents of a cache file; none when there is no file.
    fn read(&self, path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
        let mut file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context("opening the cache file"),
        };
        let metadata = file.metadata()?;
        if !metadata.is_file() || metadata.uid() != effective_uid() {
            bail!("not a regular file of the service's user");
        }
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        file.read_to_end(&mut bytes)?;
        let Some(rest) = bytes.strip_prefix(MAGIC) else { bail!("not a cache file") };
        if rest.len() < 32 {
            bail!("truncated");
        }
        let (tag, serialized) = rest.split_at(32);
        self.mac(serialized).verify_slice(tag).map_err(|_| anyhow::anyhow!("the MAC does not match"))?;
        Ok(Some(serialized.to_vec()))
    }

    fn write(&self, path: &Path, serialized: &[u8]) -> anyhow::Result<()> {
        let tmp = self.dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .context("creating a temporary cache file")?;
        let written = (|| {
            file.write_all(MAGIC)?;
            file.write_all(&self.mac(serialized).finalize().into_bytes())?;
            file.write_all(serialized)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        Ok(written?)
    }

    fn mac(&self, serialized: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(serialized);
        mac
    }
}

/// The file name of a component's cache entry: its hash and the engine's compatibility hash.
fn cache_name(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(wasm);
    let mut compat = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut compat);
    hasher.update(std::hash::Hasher::finish(&compat).to_le_bytes());
    hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Refuses a path that is a symbolic link, is not owned by the service's user, or that group or others may
/// write (for the key file: read either).
fn check_private(path: &Path, is_dir: bool) -> anyhow::Result<()> {
    let metadata = std::fs::symlink_metadata(path).with_context(|| format!("inspecting {}", path.display()))?;
    if metadata.file_type().is_symlink() {
        bail!("{} is a symbolic link; the cache refuses it", path.display());
    }
    if is_dir != metadata.is_dir() {
        bail!("{} is not a {}", path.display(), if is_dir { "directory" } else { "regular file" });
    }
    if metadata.uid() != effective_uid() {
        bail!("{} is owned by uid {}, not by the service's user ({})", path.display(), metadata.uid(), effective_uid());
    }
    let mode = metadata.permissions().mode();
    let forbidden = if is_dir { 0o022 } else { 0o077 };
    if mode & forbidden != 0 {
        bail!(
            "{} has mode {:o}: {} must not be {} by group or others (chmod {} it)",
            path.display(),
            mode & 0o777,
            if is_dir { "the cache directory" } else { "the cache key" },
            if is_dir { "writable" } else { "readable or writable" },
            if is_dir { "700" } else { "600" },
        );
    }
    Ok(())
}

/// Refuses a key file whose directory others may write (they could swap the key), unless the directory
/// is sticky (like /tmp, where only the owner may replace a file).
fn check_parent(dir: &Path) -> anyhow::Result<()> {
    let metadata = std::fs::metadata(dir).with_context(|| format!("inspecting {}", dir.display()))?;
    let mode = metadata.permissions().mode();
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        bail!("{} is writable by group or others: the cache key must not live there", dir.display());
    }
    Ok(())
}

fn load_or_create_key(path: &Path) -> anyhow::Result<[u8; KEY_BYTES]> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        check_parent(parent)?;
    }
    let mut key = [0u8; KEY_BYTES];
    match OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(mut file) => {
            File::open("/dev/urandom").and_then(|mut r| r.read_exact(&mut key)).context("reading /dev/urandom")?;
            file.write_all(&key)?;
            file.sync_all()?;
            return Ok(key);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating the cache key {}", path.display())),
    }
    check_private(path, false)?;
    let mut file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path)?;
    file.read_exact(&mut key).with_context(|| format!("reading the cache key {}", path.display()))?;
    Ok(key)
}
