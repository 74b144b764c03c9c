//! Unit tests of `config`.

use super::*;

#[test]
fn java_and_librdkafka_names_parse_into_typed_settings() {
    let c = Config::from_pairs([
        ("bootstrap.servers", "a:9092, PLAINTEXT://b:9093"),
        ("acks", "1"),
        ("queue.buffering.max.ms", "20"),
        ("batch.size", "65536"),
        ("partitioner", "murmur2"),
        ("enable.idempotence", "false"),
    ])
    .unwrap();
    assert_eq!(c.bootstrap_servers, [("a".into(), 9092), ("b".into(), 9093)]);
    assert_eq!(c.acks, Acks::Leader);
    assert_eq!(c.linger_ms, 20);
    assert_eq!(c.batch_size, 65536);
    assert_eq!(c.partitioner, PartitionerKind::Murmur2);
    assert_eq!(Config::from_pairs([("bootstrap.servers", "h:1"), ("acks", "-1")]).unwrap().acks, Acks::All);
}

#[test]
fn every_partitioner_name_parses() {
    for (name, kind) in [
        ("murmur2_random", PartitionerKind::Murmur2Random),
        ("murmur2", PartitionerKind::Murmur2),
        ("random", PartitionerKind::Random),
        ("consistent", PartitionerKind::Consistent),
        ("consistent_random", PartitionerKind::ConsistentRandom),
        ("fnv1a", PartitionerKind::Fnv1a),
        ("fnv1a_random", PartitionerKind::Fnv1aRandom),
    ] {
        let c = Config::from_pairs([("bootstrap.servers", "h:1"), ("partitioner", name)]).unwrap();
        assert_eq!(c.partitioner, kind, "{name}");
    }
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("partitioner", "crc32")]).unwrap_err();
    assert_eq!(e.key, "partitioner");
}

#[test]
fn errors_name_the_key_and_the_reason() {
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("linger.ms", "soon")]).unwrap_err();
    assert_eq!(e.key, "linger.ms");
    assert!(e.reason.contains("`soon`"), "{e}");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("lingr.ms", "5")]).unwrap_err();
    assert_eq!(e.key, "lingr.ms");
    assert!(e.reason.contains("unknown field"), "{e}");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("acks", "2")]).unwrap_err();
    assert_eq!(e.key, "acks");
    let e = Config::from_pairs([("bootstrap.servers", "nohost")]).unwrap_err();
    assert_eq!(e.key, "bootstrap.servers");
    let e = Config::from_pairs([("acks", "1")]).unwrap_err();
    assert_eq!(e.key, "bootstrap.servers");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("compression.type", "lz5")]).unwrap_err();
    assert_eq!(e.key, "compression.type");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("enable.idempotence", "true"), ("acks", "1")]).unwrap_err();
    assert_eq!(e.key, "enable.idempotence");
    assert!(e.reason.contains("acks=all"), "{e}");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("enable.idempotence", "true"), ("max.in.flight", "6")]).unwrap_err();
    assert_eq!(e.key, "enable.idempotence");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("delivery.timeout.ms", "10")]).unwrap_err();
    assert_eq!(e.key, "delivery.timeout.ms");
}

#[test]
fn idempotence_is_on_by_default_unless_the_settings_rule_it_out() {
    let on = |pairs: &[(&str, &str)]| {
        let mut all = alloc::vec![("bootstrap.servers", "h:1")];
        all.extend_from_slice(pairs);
        Config::from_pairs(all).unwrap().idempotent
    };
    assert!(on(&[]));
    assert!(!on(&[("acks", "1")]), "unset follows acks, as in the Java client");
    assert!(!on(&[("max.in.flight.requests.per.connection", "10")]));
    assert!(!on(&[("enable.idempotence", "false")]));
    assert!(on(&[("enable.idempotence", "true")]));
}

#[test]
fn compression_type_and_level() {
    let c = Config::from_pairs([("bootstrap.servers", "h:1"), ("compression.type", "zstd")]).unwrap();
    assert_eq!(c.compression, Compression::Zstd);
    let c = Config::from_pairs([("bootstrap.servers", "h:1"), ("compression.codec", "gzip"), ("compression.gzip.level", "9")]).unwrap();
    assert_eq!((c.compression, c.compression_level), (Compression::Gzip, 9));
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("compression.type", "gzip"), ("compression.level", "12")]).unwrap_err();
    assert_eq!(e.key, "compression.level");
}

#[test]
fn sasl_settings_and_secrets() {
    let c = Config::from_pairs([
        ("bootstrap.servers", "h:1"),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "alice"),
        ("sasl.password", "hunter2"),
    ])
    .unwrap();
    assert_eq!(c.sasl_mechanism, Some(SaslMechanism::ScramSha512));
    assert!(!alloc::format!("{c:?}").contains("hunter2"), "the password must not print");
    let c = Config::from_pairs([
        ("bootstrap.servers", "h:1"),
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"bob\" password=\"s3cret\";"),
    ])
    .unwrap();
    assert_eq!(c.sasl_username.as_deref(), Some("bob"));
    assert_eq!(c.sasl_password.as_ref().map(Secret::expose), Some("s3cret"));
    assert!(!alloc::format!("{c:?}").contains("s3cret"));
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "PLAIN")]).unwrap_err();
    assert_eq!(e.key, "sasl.username");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "GSSAPI")]).unwrap_err();
    assert_eq!(e.key, "sasl.mechanism");
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("security.protocol", "SASL_SSL")]).unwrap_err();
    assert_eq!(e.key, "sasl.mechanism");
    // A malformed password value never appears in the error either.
    let e = Config::from_pairs([("bootstrap.servers", "h:1"), ("sasl.password", "topsecret"), ("acks", "x")]).unwrap_err();
    assert!(!alloc::format!("{e}").contains("topsecret"));
}
