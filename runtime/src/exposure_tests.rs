//! Unit tests of the safe response shapes.

use super::*;

fn is_safe<T: SafeResponse + ?Sized>() {}

#[test]
fn standard_types_are_safe() {
    is_safe::<bool>();
    is_safe::<&'static str>();
    is_safe::<Option<Vec<(u8, String)>>>();
    is_safe::<HashMap<String, BTreeSet<i64>>>();
    is_safe::<Arc<[uuid::Uuid]>>();
    is_safe::<std::borrow::Cow<'static, str>>();
    is_safe::<(u8, u16, u32, u64)>();
    is_safe::<[f64; 3]>();
    is_safe::<List<std::net::IpAddr>>();
    is_safe::<LinkedList<std::net::SocketAddr>>();
    is_safe::<BinaryHeap<std::cmp::Reverse<u8>>>();
    is_safe::<BTreeMap<String, Option<std::time::Duration>>>();
    is_safe::<(
        std::num::NonZeroU64,
        std::num::Wrapping<i8>,
        std::time::SystemTime,
    )>();
    is_safe::<Box<[std::num::Saturating<u16>]>>();
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_types_are_safe() {
    is_safe::<chrono::DateTime<chrono::Utc>>();
    is_safe::<chrono::DateTime<chrono::FixedOffset>>();
    is_safe::<Option<chrono::NaiveDate>>();
    is_safe::<Vec<chrono::NaiveDateTime>>();
}

#[cfg(feature = "time")]
#[test]
fn time_types_are_safe() {
    is_safe::<time::OffsetDateTime>();
    is_safe::<Option<time::Date>>();
    is_safe::<Vec<time::PrimitiveDateTime>>();
}

#[test]
fn urls_are_safe() {
    is_safe::<Option<url::Url>>();
}

#[cfg(feature = "rust_decimal")]
#[test]
fn decimals_are_safe() {
    is_safe::<HashMap<String, rust_decimal::Decimal>>();
}

#[test]
fn list_serializes_as_an_object() {
    let list: List<u32> = vec![1, 2, 3].into();
    assert_eq!(
        serde_json::to_value(&list).unwrap(),
        serde_json::json!({ "data": [1, 2, 3], "count": 3 })
    );
    assert_eq!(list.count(), 3);
    assert_eq!(list.data(), [1, 2, 3]);
    let empty: List<String> = std::iter::empty().collect();
    assert_eq!(
        serde_json::to_string(&empty).unwrap(),
        r#"{"data":[],"count":0}"#
    );
    assert_eq!(list.into_inner(), vec![1, 2, 3]);
}
