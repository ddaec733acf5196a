//! Response safety (OWASP API3, excessive data exposure), checked at compile time:
//! [`SafeResponse`] and [`List`].

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use serde::Serialize;

/// A type whose serialized form has been checked for data exposure (OWASP API3, excessive
/// data exposure): a handler of a secure endpoint answers with `Json<T>` only when `T` is
/// `SafeResponse`.
///
/// - Derive it next to `Serialize`: `#[derive(Serialize, SafeResponse)]` (the derive shares
///   this trait's name, as serde's `Serialize` does). It refuses a serialized field whose name
///   looks secret (`password_hash`, `apiKey`, `mfa_secret`, `reset_token`, ...) unless it is
///   kept out of responses with `#[serde(skip_serializing)]` (or `#[serde(skip)]`), or marked
///   `#[safe(expose)]` when sending it is the point (the token a login endpoint returns).
///   `skip_serializing_if` is not enough: it still serializes sometimes. The name checked is
///   both the Rust name and a `#[serde(rename = "...")]`.
/// - Every serialized field's type must itself be `SafeResponse`, so a nested struct that was
///   never checked does not compile either.
/// - Standard types that carry no field names of their own are `SafeResponse`: numbers
///   (`NonZero*`, `Wrapping`, `Saturating` too), `bool`, `char`, strings, `()`, `Uuid`, IP and
///   socket addresses, `Duration` and `SystemTime`; and `Option`, `&T`, `Box`, `Arc`, `Rc`,
///   `Cow`, `Reverse`, slices, arrays, `Vec`, `VecDeque`, `LinkedList`, `BinaryHeap`, the
///   sets, the maps (`BTreeMap<String, T>`, `HashMap<String, T>`, ...) and tuples of up to
///   four elements, of `SafeResponse` types. File system paths (`Path`, `PathBuf`) are not:
///   they tell clients about the server's disk.
/// - Behind cargo features named after their crates (each off by default, and each enabling
///   nothing of its crate but the type itself; turn on the crate's own `serde` feature, or a
///   `#[serde(with = ...)]` format, in your own `Cargo.toml` as usual):
///   `chrono` (`DateTime<Tz>`, `NaiveDate`, `NaiveDateTime`, `NaiveTime`, `Weekday`, `Month`),
///   `time` (`OffsetDateTime`, `PrimitiveDateTime`, `Date`, `Time`, `UtcOffset`, `Duration`,
///   `Weekday`, `Month`) and `rust_decimal` (`Decimal`). `uuid::Uuid` and `url::Url` need no
///   feature (features `uuid` and `url` exist, and do nothing): the runtime depends on both.
/// - `serde_json::Value` and `serde_json::Map` are deliberately not `SafeResponse`, with or
///   without any feature: dynamic JSON can carry anything and cannot be checked. A foreign type
///   can be wrapped in a newtype of your own and `impl SafeResponse for Wrapper {}` written by
///   hand, after review.
/// - A handler may not answer with a top-level JSON array (`Json<Vec<T>>`): wrap the items in a
///   [`List`], which serializes as `{"data": [...], "count": n}`.
///
/// ```
/// use secure_endpoint::SafeResponse;
/// use serde::Serialize;
///
/// #[derive(Serialize, SafeResponse)]
/// struct UserView {
///     id: String,
///     email: String,
///     /// Stored, never sent.
///     #[serde(skip_serializing)]
///     password_hash: String,
/// }
///
/// #[derive(Serialize, SafeResponse)]
/// struct LoginResponse {
///     /// The whole point of the login endpoint.
///     #[safe(expose)]
///     token: String,
///     expires_in: u64,
/// }
/// ```
///
/// A field that looks secret and is neither skipped nor exposed does not compile:
///
/// ```compile_fail
/// use secure_endpoint::SafeResponse;
///
/// #[derive(serde::Serialize, SafeResponse)]
/// struct User {
///     id: String,
///     // error: field `password_hash` of `User` looks secret and would be sent to clients; ...
///     password_hash: String,
/// }
/// ```
///
/// Implementing it by hand (`impl SafeResponse for Wrapper {}`) skips every check: do it only
/// for a type whose serialized form a reviewer has read.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not checked for data exposure and cannot be sent in a response; add `#[derive(Serialize, SafeResponse)]` to it",
    label = "`{Self}` is not `SafeResponse`",
    note = "`SafeResponse` checks at compile time that no field looks secret: a field such as `password_hash` or `api_key` must be `#[serde(skip_serializing)]`, or `#[safe(expose)]` if sending it to clients is intended",
    note = "dynamic JSON (`serde_json::Value`) cannot be checked and is never `SafeResponse`: return a typed struct"
)]
pub trait SafeResponse {}

macro_rules! safe {
    ($($ty:ty),* $(,)?) => {
        $(impl SafeResponse for $ty {})*
    };
}

safe!(bool, char, str, String, (), uuid::Uuid);
safe!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);
safe!(std::net::IpAddr, std::net::Ipv4Addr, std::net::Ipv6Addr);
safe!(
    std::net::SocketAddr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6
);
safe!(std::time::Duration, std::time::SystemTime);
safe!(
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroI128,
    std::num::NonZeroIsize,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroU128,
    std::num::NonZeroUsize,
);
impl<T: SafeResponse> SafeResponse for std::num::Wrapping<T> {}
impl<T: SafeResponse> SafeResponse for std::num::Saturating<T> {}
impl<T: SafeResponse> SafeResponse for std::cmp::Reverse<T> {}
impl<T: SafeResponse> SafeResponse for LinkedList<T> {}
impl<T: SafeResponse> SafeResponse for BinaryHeap<T> {}

#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> SafeResponse for chrono::DateTime<Tz> {}
#[cfg(feature = "chrono")]
safe!(
    chrono::NaiveDate,
    chrono::NaiveDateTime,
    chrono::NaiveTime,
    chrono::Weekday,
    chrono::Month,
);
#[cfg(feature = "time")]
safe!(
    time::OffsetDateTime,
    time::PrimitiveDateTime,
    time::Date,
    time::Time,
    time::UtcOffset,
    time::Duration,
    time::Weekday,
    time::Month,
);
safe!(url::Url);
#[cfg(feature = "rust_decimal")]
safe!(rust_decimal::Decimal);

impl<T: SafeResponse + ?Sized> SafeResponse for &T {}
impl<T: SafeResponse + ?Sized> SafeResponse for &mut T {}
impl<T: SafeResponse + ?Sized> SafeResponse for Box<T> {}
impl<T: SafeResponse + ?Sized> SafeResponse for Arc<T> {}
impl<T: SafeResponse + ?Sized> SafeResponse for Rc<T> {}
impl<T: SafeResponse + ToOwned + ?Sized> SafeResponse for std::borrow::Cow<'_, T> {}
impl<T: ?Sized> SafeResponse for std::marker::PhantomData<T> {}
impl<T: SafeResponse> SafeResponse for Option<T> {}
impl<T: SafeResponse> SafeResponse for [T] {}
impl<T: SafeResponse, const N: usize> SafeResponse for [T; N] {}
impl<T: SafeResponse> SafeResponse for Vec<T> {}
impl<T: SafeResponse> SafeResponse for VecDeque<T> {}
impl<T: SafeResponse> SafeResponse for BTreeSet<T> {}
impl<T: SafeResponse, S> SafeResponse for HashSet<T, S> {}
impl<K: SafeResponse, V: SafeResponse> SafeResponse for BTreeMap<K, V> {}
impl<K: SafeResponse, V: SafeResponse, S> SafeResponse for HashMap<K, V, S> {}
impl<A: SafeResponse> SafeResponse for (A,) {}
impl<A: SafeResponse, B: SafeResponse> SafeResponse for (A, B) {}
impl<A: SafeResponse, B: SafeResponse, C: SafeResponse> SafeResponse for (A, B, C) {}
impl<A: SafeResponse, B: SafeResponse, C: SafeResponse, D: SafeResponse> SafeResponse
    for (A, B, C, D)
{
}

/// A list response: serializes as `{"data": [...], "count": n}`.
///
/// `#[secure_endpoint]` refuses handlers that answer with a top-level JSON array
/// (`Json<Vec<T>>`, `Json<[T; N]>`, `Json<&[T]>`): a top-level array is the shape JSON
/// hijacking exploited in old browsers, and it leaves no room to add paging or other metadata
/// later without breaking clients. Wrap the items instead: `Json(List::new(items))`.
///
/// ```
/// use secure_endpoint::List;
///
/// let list = List::new(vec!["a", "b"]);
/// assert_eq!(serde_json::to_string(&list).unwrap(), r#"{"data":["a","b"],"count":2}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct List<T> {
    data: Vec<T>,
    count: usize,
}

impl<T> List<T> {
    /// Wraps `data`; `count` is its length.
    pub fn new(data: Vec<T>) -> Self {
        List {
            count: data.len(),
            data,
        }
    }

    /// The items.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The number of items.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The items, unwrapped.
    pub fn into_inner(self) -> Vec<T> {
        self.data
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(data: Vec<T>) -> Self {
        List::new(data)
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        List::new(iter.into_iter().collect())
    }
}

impl<T: SafeResponse> SafeResponse for List<T> {}

#[cfg(test)]
#[path = "exposure_tests.rs"]
mod tests;
