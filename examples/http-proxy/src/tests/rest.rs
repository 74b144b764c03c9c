use super::*;

fn records(body: &str, format: Format) -> Result<Vec<(Option<Vec<u8>>, Option<Vec<u8>>, Option<i32>)>, Failure> {
    let packed = parse_records(body.as_bytes(), format)?;
    let mut r = kafka_producer_component::wire::Reader::new(packed.from(0));
    let mut headers = Vec::new();
    let mut out = Vec::new();
    for _ in 0..packed.len() {
        let rec = kafka_producer_component::packed::read(&mut r, &mut headers).unwrap();
        out.push((rec.key.map(<[u8]>::to_vec), rec.value.map(<[u8]>::to_vec), rec.partition));
    }
    Ok(out)
}

#[test]
fn routes_post_topics_only() {
    assert_eq!(route("POST", "/topics/events").as_deref(), Ok("events"));
    assert_eq!(route("POST", "/topics/events?x=1").as_deref(), Ok("events"));
    assert_eq!(route("POST", "/topics/my%2Etopic").as_deref(), Ok("my.topic"));
    assert_eq!(route("POST", "/topics/bad%20name").as_deref(), Ok("bad name"));
    for broken in ["/topics/a%2", "/topics/a%zz", "/topics/%ff"] {
        assert_eq!(route("POST", broken).unwrap_err().error_code, 40401, "{broken}");
    }
    assert_eq!(route("GET", "/topics/events").unwrap_err().status, 405);
    assert_eq!(route("POST", "/topics/events/partitions/0").unwrap_err().status, 404);
    assert_eq!(route("POST", "/topics/").unwrap_err().status, 404);
    assert_eq!(route("POST", "/consumers/g").unwrap_err().status, 404);
}

#[test]
fn topic_names_follow_kafkas_rule() {
    for ok in ["a", "events.v1", "A_b-c", &"x".repeat(249)] {
        assert!(check_topic(ok).is_ok(), "{ok}");
    }
    for bad in ["", ".", "..", "a b", "caf\u{e9}", "a%2Fb", "a:b", &"x".repeat(250)] {
        assert_eq!(check_topic(bad).unwrap_err().error_code, 40401, "{bad}");
    }
}

#[test]
fn content_types() {
    assert_eq!(format(Some("application/vnd.kafka.binary.v2+json")), Ok(Format::Binary));
    assert_eq!(format(Some("Application/Vnd.Kafka.JSON.v2+json; charset=utf-8")), Ok(Format::Json));
    for bad in [None, Some("application/json"), Some("application/vnd.kafka.avro.v2+json"), Some("text/plain")] {
        assert_eq!(format(bad).unwrap_err().status, 415, "{bad:?}");
    }
}

#[test]
fn binary_records_are_base64_decoded() {
    let got = records(r#"{"records":[{"key":"a2V5","value":"AAEC/w==","partition":2},{"value":"aGk="},{"key":null,"value":null}]}"#, Format::Binary).unwrap();
    assert_eq!(got[0], (Some(b"key".to_vec()), Some(vec![0, 1, 2, 255]), Some(2)));
    assert_eq!(got[1], (None, Some(b"hi".to_vec()), None));
    assert_eq!(got[2], (None, None, None));
}

#[test]
fn json_records_keep_their_text() {
    let got = records(r#"{"records":[{"key":{"id":7,"a":[1, 2]},"value":"s\"q"},{"value":12.5}]}"#, Format::Json).unwrap();
    assert_eq!(got[0].0.as_deref(), Some(&br#"{"id":7,"a":[1, 2]}"#[..]));
    assert_eq!(got[0].1.as_deref(), Some(&br#""s\"q""#[..]));
    assert_eq!(got[1].1.as_deref(), Some(&b"12.5"[..]));
}

#[test]
fn bad_bodies_get_400_or_422() {
    assert_eq!(records(r#"{"records":[{"value":"aGk="}"#, Format::Binary).unwrap_err().status, 400);
    assert_eq!(records("not json", Format::Json).unwrap_err().status, 400);
    assert_eq!(records(r#"{"records":{}}"#, Format::Json).unwrap_err().status, 422);
    assert_eq!(records(r#"{"value":1}"#, Format::Json).unwrap_err().status, 422);
    assert_eq!(records(r#"{"records":[{"value":"%%%"}]}"#, Format::Binary).unwrap_err().status, 422);
    assert_eq!(records(r#"{"records":[{"value":5}]}"#, Format::Binary).unwrap_err().status, 422);
    assert_eq!(records(r#"{"records":[{"value":"aGk=","partition":-1}]}"#, Format::Binary).unwrap_err().error_code, 42202);
    assert_eq!(records(r#"{"records":[{"value":"aGk=","partition":"x"}]}"#, Format::Binary).unwrap_err().status, 422);
}

#[test]
fn answers_are_the_proxys_json() {
    let body = offsets_body(&[
        Outcome::Stored { partition: 1, offset: 42 },
        Outcome::Failed { partition: None, error_code: 1, error: "bad \"p\"".into() },
    ]);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"offsets":[{"partition":1,"offset":42,"error_code":null,"error":null},
            {"partition":null,"offset":null,"error_code":1,"error":"bad \"p\""}],"key_schema_id":null,"value_schema_id":null})
    );
    let f: serde_json::Value = serde_json::from_str(&Failure::topic_not_found().body()).unwrap();
    assert_eq!(f, serde_json::json!({"error_code":40401,"message":"Topic not found."}));
}
