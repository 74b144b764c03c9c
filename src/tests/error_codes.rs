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
