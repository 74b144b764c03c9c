//! The compile cache behind `Runtime::load`: the first load compiles and
//! writes the artifact, the second is served from it, a precompiled
//! `.cwasm` loads as is, and a corrupt cache file or an unwritable cache
//! directory falls back to compiling. Every runtime so loaded produces
//! records that the independent reader reads back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use host_tests::*;
use kafka_producer_host::{default_component_path, LoadOutcome};

/// A fresh, empty directory under the system temp dir.
fn temp_dir(what: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!("kpc-{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Produces 300 mixed records to `topic` through `rt` and checks the reader
/// reads back every one of them, offsets included.
fn produces(rt: &Runtime, broker: &Broker, topic: &str) {
    broker.create_topic(topic, 2).unwrap();
    let mut c = match Client::new(rt, &[("bootstrap.servers", &broker.bootstrap())]).expect("instantiate") {
        Ok(c) => c,
        Err(e) => panic!("config refused: {e}"),
    };
    let produced = produce_all(&mut c, topic, mixed_records(300), 100).unwrap();
    let read = read_back(Reader::KafkaPython, &broker.bootstrap(), topic, 2, 300).unwrap();
    assert_eq!(verify(&produced, &read, true).unwrap(), 0, "every offset reported");
}

fn load(path: &Path, cache: Option<&Path>) -> (Runtime, LoadOutcome) {
    Runtime::load_with_cache(path, cache).expect("load the engine component (run scripts/build.sh)")
}

#[test]
fn the_second_load_is_served_from_the_cache_and_a_cwasm_loads_directly() {
    let wasm = default_component_path();
    let dir = temp_dir("cache");
    let cache = dir.join("compiled");

    let (first, outcome) = load(&wasm, Some(&cache));
    let LoadOutcome::Compiled { written: Some(file), rejected: None } = outcome else {
        panic!("a cold cache compiles and writes the artifact: {outcome:?}")
    };
    assert!(file.is_file() && file.starts_with(&cache), "{}", file.display());
    assert!(file.extension().is_some_and(|e| e == "cwasm"));
    // Nothing but the artifact is left behind (the temp file was renamed).
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);

    let (second, outcome) = load(&wasm, Some(&cache));
    assert_eq!(outcome, LoadOutcome::Cached(file.clone()), "the second load is served from the cache");

    // The artifact is what `wasmtime compile` / `precompile_component`
    // produce: given in place of the .wasm, it loads as is.
    let cwasm = dir.join("producer.cwasm");
    std::fs::copy(&file, &cwasm).unwrap();
    let (third, outcome) = load(&cwasm, None);
    assert_eq!(outcome, LoadOutcome::Precompiled);

    let broker = Broker::start().unwrap();
    produces(&first, &broker, "compiled");
    produces(&second, &broker, "cached");
    produces(&third, &broker, "precompiled");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_cache_file_or_an_unwritable_cache_falls_back_to_compiling() {
    let wasm = default_component_path();
    let dir = temp_dir("corrupt");
    let cache = dir.join("compiled");
    let (_, outcome) = load(&wasm, Some(&cache));
    let LoadOutcome::Compiled { written: Some(file), .. } = outcome else { panic!("{outcome:?}") };
    let good = std::fs::read(&file).unwrap();

    // Garbage in place of the artifact.
    std::fs::write(&file, b"not a wasmtime artifact at all").unwrap();
    let (garbage, outcome) = load(&wasm, Some(&cache));
    let LoadOutcome::Compiled { written, rejected: Some(why) } = outcome else {
        panic!("a garbage cache file is rejected: {outcome:?}")
    };
    assert_eq!(written.as_ref(), Some(&file), "and rewritten ({why})");
    assert_eq!(std::fs::read(&file).unwrap(), good, "the rewritten artifact is the same");

    // An artifact cut short (its ELF section table is at the end).
    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    let (truncated, outcome) = load(&wasm, Some(&cache));
    assert!(matches!(outcome, LoadOutcome::Compiled { rejected: Some(_), .. }), "a truncated cache file is rejected: {outcome:?}");
    assert_eq!(load(&wasm, Some(&cache)).1, LoadOutcome::Cached(file.clone()), "and the cache is whole again");

    // A cache directory that cannot be created (its parent is a file).
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, b"").unwrap();
    let (unwritable, outcome) = load(&wasm, Some(&blocker.join("compiled")));
    assert_eq!(outcome, LoadOutcome::Compiled { written: None, rejected: None });

    let broker = Broker::start().unwrap();
    produces(&garbage, &broker, "after-garbage");
    produces(&truncated, &broker, "after-truncation");
    produces(&unwritable, &broker, "uncached");
    std::fs::remove_dir_all(&dir).unwrap();
}
