//! Loading the engine component into wasmtime: compiled once, then the
//! compiled artifact cached (keyed by the engine's compatibility hash and
//! the component's bytes) so later runs start in milliseconds; a
//! precompiled `.cwasm` is loaded as is.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use wasmtime::component::Component;
use wasmtime::{Config, Engine as WasmEngine};

/// Where `cargo build --release --target wasm32-wasip2 -p kafka-producer-component` puts the component,
/// honouring `CARGO_TARGET_DIR`; `KAFKA_PRODUCER_WASM` overrides it.
pub fn default_component_path() -> PathBuf {
    if let Ok(p) = std::env::var("KAFKA_PRODUCER_WASM") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("wasm32-wasip2/release/kafka_producer_component.wasm")
}

/// A compiled engine component, ready to instantiate many producers.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) engine: WasmEngine,
    pub(crate) component: Component,
}

/// How [`Runtime::load_with_cache`] got its compiled component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadOutcome {
    /// The path was itself a precompiled component (`wasmtime compile`,
    /// `Engine::precompile_component`), loaded without compiling.
    Precompiled,
    /// Served from the compile cache: this file.
    Cached(PathBuf),
    /// Compiled with Cranelift. `written` is the cache file now holding the
    /// artifact (`None`: the cache is disabled or could not be written);
    /// `rejected` says why a cache file that was there could not be used.
    Compiled { written: Option<PathBuf>, rejected: Option<String> },
}

/// Where compiled components are cached: `$KPC_CACHE/compiled`, else
/// `$XDG_CACHE_HOME/kafka-producer-component/compiled`, else
/// `$HOME/.cache/kafka-producer-component/compiled`; `None` when
/// `KPC_NO_COMPILE_CACHE` is set (to anything but empty or `0`) or no
/// such directory can be named.
pub fn compile_cache_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if std::env::var_os("KPC_NO_COMPILE_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    var("KPC_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("kafka-producer-component")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/kafka-producer-component")))
        .map(|d| d.join("compiled"))
}

fn new_engine() -> Result<WasmEngine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    Ok(WasmEngine::new(&config)?)
}

/// Loads a precompiled component from `path`.
///
/// SAFETY argument (the only `unsafe` in the loader): `deserialize_file`
/// maps the file and runs its machine code as is, so the file must be an
/// artifact produced by wasmtime and not altered since. Callers pass either
/// (a) a file this host wrote into its own cache directory (created 0700,
/// written to a temp file and renamed into place, named by the engine's
/// compatibility hash and the hash of the .wasm it was compiled from), or
/// (b) a `.cwasm` the user explicitly chose to run in place of the .wasm,
/// which is exactly as trusted as this binary. wasmtime itself checks the
/// ELF header, that it is a component, and that the artifact was compiled
/// by this wasmtime version with compatible settings, and returns an error
/// (never UB) for a stale, truncated or foreign file (host-tests'
/// compile_cache tries garbage and a half file). Not guarded against: a
/// file whose code bytes were altered in place, by someone who can write
/// the cache (and so could equally replace this binary) or by disk
/// corruption; there is no checksum over the artifact.
fn deserialize_trusted(engine: &WasmEngine, path: &Path) -> Result<Component> {
    // SAFETY: see above: `path` is this host's own cache file or a
    // precompiled artifact the user supplied, and wasmtime validates its
    // header and compatibility before use.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}

/// A stable 64-bit hash (SipHash-1-3 with fixed keys); a different Rust
/// release hashing differently only makes for a cache miss.
fn hash_of(h: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut s = std::hash::DefaultHasher::new();
    h.hash(&mut s);
    s.finish()
}

/// Writes `bytes` to `dest` atomically: a temp file in the same directory,
/// then a rename, so a reader sees the whole artifact or nothing.
fn write_atomically(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let tmp = dir.join(format!(".{}.{}.{nanos}.tmp", dest.file_name().and_then(|n| n.to_str()).unwrap_or("cwasm"), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl Runtime {
    /// Loads the component at `path`, through the compile cache
    /// ([`compile_cache_dir`]). `path` may also be a precompiled component.
    pub fn load(path: &Path) -> Result<Runtime> {
        Ok(Runtime::load_with_cache(path, compile_cache_dir().as_deref())?.0)
    }

    /// Loads the component at `path`, caching the compiled artifact in
    /// `cache_dir` (`None`: no cache). A precompiled component (`.cwasm`)
    /// is loaded as is. A stale, corrupt or unreadable cache file, or a
    /// cache directory that cannot be written, falls back to compiling.
    pub fn load_with_cache(path: &Path, cache_dir: Option<&Path>) -> Result<(Runtime, LoadOutcome)> {
        let hint = "build it with `cargo build --release --target wasm32-wasip2 -p kafka-producer-component`";
        let engine = new_engine()?;
        let read_err = || format!("reading component {} ({hint})", path.display());
        // A .wasm starts with `\0asm`; a precompiled artifact is an ELF file
        // that wasmtime marks as a module or a component. Only the header is
        // read here: the artifact itself is mapped, not read.
        let mut magic = [0u8; 4];
        std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).with_context(read_err)?;
        if &magic == b"\x7fELF" {
            match WasmEngine::detect_precompiled_file(path).map_err(anyhow::Error::from).with_context(read_err)? {
                Some(wasmtime::Precompiled::Component) => {
                    let component = deserialize_trusted(&engine, path).with_context(|| {
                        format!("loading precompiled component {} (was it compiled by wasmtime 48.0.8 with default settings?)", path.display())
                    })?;
                    return Ok((Runtime { engine, component }, LoadOutcome::Precompiled));
                }
                Some(wasmtime::Precompiled::Module) => bail!("{} is a precompiled core module, not a component", path.display()),
                None => bail!("{} is an ELF file but not a wasmtime artifact", path.display()),
            }
        }
        let bytes = std::fs::read(path).with_context(read_err)?;
        let cache_file = cache_dir.map(|dir| {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("component");
            let engine_hash = hash_of(engine.precompile_compatibility_hash());
            let content_hash = hash_of((bytes.len(), &bytes[..]));
            dir.join(format!("{stem}-{engine_hash:016x}-{content_hash:016x}.cwasm"))
        });
        let mut rejected = None;
        if let Some(file) = cache_file.as_deref().filter(|f| f.is_file()) {
            match deserialize_trusted(&engine, file) {
                Ok(component) => return Ok((Runtime { engine, component }, LoadOutcome::Cached(file.to_path_buf()))),
                Err(e) => rejected = Some(format!("{e:#}")),
            }
        }
        let component = Component::from_binary(&engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling component {}", path.display()))?;
        // The same bytes `Engine::precompile_component` would give.
        let written = cache_file.filter(|f| component.serialize().is_ok_and(|art| write_atomically(f, &art).is_ok()));
        Ok((Runtime { engine, component }, LoadOutcome::Compiled { written, rejected }))
    }

    pub fn load_default() -> Result<Runtime> {
        Runtime::load(&default_component_path())
    }
}

