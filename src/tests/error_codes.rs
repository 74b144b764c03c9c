//! Unit tests of `error_codes`.

use super::*;

#[test]
fn table_is_sorted_and_classifies_like_the_java_client() {
    assert!(ERROR_CODES.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(error_name(6), "NOT_LEADER_OR_FOLLOWER");
    assert!(is_retriable(6));
    assert!(!is_retriable(10), "MESSAGE_TOO_LARGE");
    assert!(!is_retriable(-1));
    assert_eq!(error_name(32000), "UNKNOWN_ERROR_CODE");
}

#[test]
fn each_named_constant_is_the_code_of_its_name() {
    assert!(ERROR_CODES.iter().all(|&(code, name, _)| error_name(code) == name));
    assert_eq!(error_name(NONE), "NONE");
    assert_eq!(error_name(OUT_OF_ORDER_SEQUENCE_NUMBER), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    assert_eq!((DUPLICATE_SEQUENCE_NUMBER, PRODUCER_FENCED, UNKNOWN_PRODUCER_ID), (46, 90, 59));
    assert!(invalidates_metadata(NOT_LEADER_OR_FOLLOWER) && !invalidates_metadata(MESSAGE_TOO_LARGE));
}
