//! Unit tests of `report`.

use super::*;
use crate::error_codes::{NOT_ENOUGH_REPLICAS, TOPIC_AUTHORIZATION_FAILED};

#[test]
fn a_broker_error_names_its_code_then_the_detail() {
    let e = ProduceError::broker(ErrorKind::Broker, NOT_ENOUGH_REPLICAS, Some("2 of 3 in sync"));
    assert_eq!((e.code, e.message.as_str()), (NOT_ENOUGH_REPLICAS, "NOT_ENOUGH_REPLICAS: 2 of 3 in sync"));
    assert_eq!(alloc::format!("{e}"), e.message);
    let bare = ProduceError::broker(ErrorKind::TopicFailed, TOPIC_AUTHORIZATION_FAILED, Some(""));
    assert_eq!(bare.message, "TOPIC_AUTHORIZATION_FAILED", "an empty detail adds nothing");
    assert_eq!(ProduceError::broker(ErrorKind::Broker, 31_000, None).message, "UNKNOWN_ERROR_CODE");
}

#[test]
fn an_error_no_broker_gave_has_code_0() {
    let e = ProduceError::new(ErrorKind::QueueFull, "full".into());
    assert_eq!((e.kind, e.code, e.message.as_str()), (ErrorKind::QueueFull, 0, "full"));
}
