//! Authorization: roles and scopes (403), then ownership (404, never 403: no existence oracle).

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::auth::Principal;
use crate::policy::{Authorization, Owner, OwnerBinding};
use crate::problem::Problem;

/// Checks roles (any one of them) and scopes (all of them).
#[inline]
pub(crate) fn check_roles_and_scopes(
    authz: &Authorization,
    principal: &Principal,
) -> Result<(), Problem> {
    if !authz.roles.is_empty() && !authz.roles.iter().any(|r| principal.has_role(r)) {
        return Err(Problem::forbidden().with_reason("role_missing"));
    }
    if !authz.scopes.iter().all(|s| principal.has_scope(s)) {
        return Err(Problem::forbidden()
            .with_reason("scope_missing")
            .with_code("insufficient_scope")
            .with_header(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(
                    "Bearer realm=\"api\", error=\"insufficient_scope\"",
                ),
            ));
    }
    Ok(())
}

/// A resource that belongs to a principal and can be loaded by its path id.
///
/// Used with `#[secure_endpoint(owner = "order_id", loader = Order)]`: before the handler
/// runs, the runtime loads the resource with the `order_id` path parameter and admits the
/// request only if the resource exists and [`owner_id`](Self::owner_id) equals the principal's
/// subject. Otherwise the caller gets the same 404 either way. The handler receives the loaded
/// value through [`Owned`].
///
/// The id is the parameter's percent-decoded value, as axum hands it to `Path`. A request whose
/// path holds the parameter's name twice (a nesting prefix repeating it, as in
/// `nest("/shops/{order_id}", ...)` around `/orders/{order_id}`) is a 404: loading one of the
/// two could authorize a resource other than the one the handler reads. When the handler binds
/// the parameter as well, the router checks at registration that its `Path` reads the same one.
///
/// A loader that needs more than the owner parameter (every path parameter, the state held in
/// extensions) implements [`LoadOwned`](crate::loader::LoadOwned) instead. With
/// `owner_status = 403` (or [`SecureRouter::owner_status`](crate::SecureRouter::owner_status)),
/// a resource that exists and is another principal's is a 403 instead.
pub trait OwnedResource<S>: Sized + Send + Sync + 'static {
    /// Loads the resource with this id; `Ok(None)` when there is none.
    fn load(state: &S, id: &str) -> impl Future<Output = Result<Option<Self>, Problem>> + Send;

    /// The subject of the principal that owns the resource.
    fn owner_id(&self) -> &str;
}

/// The resource loaded and authorized before the handler ran (see [`OwnedResource`]).
#[derive(Debug)]
pub struct Owned<T>(pub T);

pub(crate) struct Slot<T>(pub(crate) Arc<Mutex<Option<T>>>);

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

impl<S: Send + Sync, T: Send + Sync + 'static> FromRequestParts<S> for Owned<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .remove::<Slot<T>>()
            .and_then(|slot| slot.0.lock().ok()?.take())
            .map(Owned)
            // Only reachable when `Owned<T>` is used without `loader = T`: a programming error.
            .ok_or_else(Problem::internal)
    }
}

/// `true` when `value` displays exactly as `expected`, compared piece by piece as it is
/// formatted: nothing is allocated.
pub(crate) fn displays_as(value: &dyn fmt::Display, expected: &str) -> bool {
    struct Prefix<'a>(&'a str);
    impl fmt::Write for Prefix<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            match self.0.strip_prefix(s) {
                Some(rest) => {
                    self.0 = rest;
                    Ok(())
                }
                None => Err(fmt::Error),
            }
        }
    }
    let mut rest = Prefix(expected);
    fmt::write(&mut rest, format_args!("{value}")).is_ok() && rest.0.is_empty()
}

/// The parameter names of a route template, in order: `{name}` and `{*name}` (`{{` and `}}`
/// are literal braces).
pub(crate) fn route_params(route: &str) -> Vec<&str> {
    let mut params = Vec::new();
    let mut rest = route;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(literal) = after.strip_prefix('{') {
            rest = literal;
            continue;
        }
        let Some(close) = after.find('}') else { break };
        params.push(after[..close].trim_start_matches('*'));
        rest = &after[close + 1..];
    }
    params
}

/// Checks, when `route` is registered, that the handler's binding of the owner parameter
/// reads the route's `{param}`, and returns the route parameter the owner is read from (for
/// the inventory). `field_param` is the serde name of the field, for a struct binding.
///
/// A tuple is filled by position from every parameter of the request, and a prefix the
/// router is nested under (`axum::Router::nest("/orgs/{org_id}", ...)`) comes first: the
/// route's own parameters are the tuple's last elements.
///
/// # Panics
/// When they differ: the endpoint would check one value and its handler read another.
pub(crate) fn owner_route_param(
    handler: &str,
    route: &str,
    owner: Owner,
    field_param: Option<&'static str>,
) -> &'static str {
    let params = route_params(route);
    let param = owner.param;
    let declared = format!("endpoint `{handler}` declares `owner = \"{param}\"`");
    let count = |name: &str| params.iter().filter(|p| **p == name).count();
    match owner.binding {
        OwnerBinding::Unbound => {}
        OwnerBinding::Single => {
            if params.len() > 1 {
                panic!(
                    "{declared} and binds it as the whole `Path(...)`, but the route `{route}` has \
                     {} parameters ({}), which axum fills by position: bind them all, e.g. \
                     `Path(({})): Path<(...)>`",
                    params.len(),
                    braced(&params),
                    params.join(", "),
                );
            }
        }
        OwnerBinding::Position { index, arity } => {
            let own = params.len();
            // The route's parameters are the tuple's last `own` elements.
            match (index + own).checked_sub(arity) {
                _ if own > arity => panic!(
                    "{declared} and binds it at position {index} of a {arity}-tuple, but the \
                     route `{route}` has {own} parameters ({}), which axum fills by position: \
                     the tuple needs one element per parameter, in the route's order",
                    braced(&params),
                ),
                Some(at) if params[at] == param => {}
                Some(at) => panic!(
                    "{declared} and binds it at position {index} of its `Path` tuple, but axum \
                     fills position {index} from `{{{}}}` of the route `{route}`: the handler \
                     would read `{{{}}}` while ownership checks `{{{param}}}`; bind the tuple in \
                     the route's order ({})",
                    params[at],
                    params[at],
                    braced(&params),
                ),
                None => panic!(
                    "{declared} and binds it at position {index} of a {arity}-tuple, but the \
                     route `{route}` has only {own} parameters ({}): position {index} would \
                     be filled by a prefix this router is nested under, which it cannot see; \
                     bind the tuple in the route's order",
                    braced(&params),
                ),
            }
            return param;
        }
        OwnerBinding::Field { field } => {
            let Some(name) = field_param else {
                panic!(
                    "{declared} and binds it from the field `{field}` of its `Path` struct, \
                     but the route parameter that fills `{field}` cannot be told (its serde \
                     name could not be read); bind the parameter with `Path({param}): Path<...>` \
                     or a tuple instead"
                );
            };
            if count(name) != 1 {
                panic!(
                    "{declared} and binds it from the field `{field}` of its `Path` struct, \
                     which axum fills from `{{{name}}}`, but the route `{route}` has {} `{{{name}}}`",
                    if count(name) == 0 { "no" } else { "more than one" },
                );
            }
            return name;
        }
    }
    match count(param) {
        0 => panic!("{declared} but the route `{route}` has no `{{{param}}}` segment"),
        1 => param,
        _ => panic!(
            "{declared} but the route `{route}` has more than one `{{{param}}}`: name each \
             parameter once"
        ),
    }
}

fn braced(params: &[&str]) -> String {
    params
        .iter()
        .map(|p| format!("`{{{p}}}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The route parameter (the serde name) that fills the field an owner is bound to in a
/// `Path<T>` struct, found by deserializing `T` as axum would, from parameters whose values
/// are their own names (then UUIDs ending in their index, for `Uuid` fields; numbers are their
/// index), and reading the field back with `read`. When `T` does not deserialize so (a field
/// of another type), the field's own name if `T` has a field of that serde name: a rename
/// that swaps two such names is then not seen here, but the request-time check still compares
/// the value the handler binds. `None` when it cannot be told.
#[doc(hidden)]
pub fn owner_field_param<T: serde::de::DeserializeOwned>(
    field: &'static str,
    read: fn(&T) -> String,
) -> Option<&'static str> {
    use serde::de::value::MapDeserializer;

    let fields = struct_fields::<T>()?;
    // Strings as the fields' names, then as UUIDs ending in the fields' index (for `Uuid`
    // fields); numbers as the index.
    for text in [Probe::NAME, Probe::UUID] {
        let probe = MapDeserializer::<_, serde::de::value::Error>::new(
            fields.iter().enumerate().map(|(index, name)| {
                let text = text(name, index);
                (*name, Probe { text, index })
            }),
        );
        if let Ok(value) = T::deserialize(probe) {
            let shown = read(&value);
            return (0..fields.len())
                .find(|&i| shown == text(fields[i], i) || shown == i.to_string())
                .map(|i| fields[i]);
        }
    }
    fields.iter().copied().find(|name| *name == field)
}

/// The serde names of `T`'s fields, as its derived `Deserialize` declares them.
fn struct_fields<T: serde::de::DeserializeOwned>() -> Option<&'static [&'static str]> {
    let seen = Cell::new(None);
    let _ = T::deserialize(FieldNames(&seen));
    seen.get()
}

/// A deserializer that records the field names a struct asks for, and fails.
struct FieldNames<'a>(&'a Cell<Option<&'static [&'static str]>>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.set(Some(fields));
        Err(serde::de::Error::custom("read the field names"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The value of one field while probing: `text` as a string, its index as a number.
struct Probe {
    text: String,
    index: usize,
}

impl Probe {
    const NAME: fn(&str, usize) -> String = |name, _| name.to_owned();
    const UUID: fn(&str, usize) -> String =
        |_, index| format!("00000000-0000-4000-8000-{index:012}");
}

impl<'de> serde::de::IntoDeserializer<'de, serde::de::value::Error> for Probe {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! probe_numbers {
    ($($method:ident)*) => {$(
        fn $method<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            visitor.visit_u64(self.index as u64)
        }
    )*};
}

impl<'de> serde::Deserializer<'de> for Probe {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_str(&self.text)
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    probe_numbers!(deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128);

    serde::forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::{AuthorizationBuilder, OwnerBuilder};
    use crate::policy::AuthScheme;

    const AUTHZ: Authorization = AuthorizationBuilder::new()
        .roles(&["admin", "ops"])
        .scopes(&["a", "b"])
        .build();

    #[test]
    fn roles_any_scopes_all() {
        let p = |roles: &[&str], scopes: &[&str]| {
            Principal::new(
                "x",
                roles.iter().map(|s| s.to_string()).collect(),
                scopes.iter().map(|s| s.to_string()).collect(),
                AuthScheme::Jwt,
            )
        };
        assert!(check_roles_and_scopes(&AUTHZ, &p(&["ops"], &["a", "b"])).is_ok());
        assert!(check_roles_and_scopes(&AUTHZ, &p(&["user"], &["a", "b"])).is_err());
        assert!(check_roles_and_scopes(&AUTHZ, &p(&["admin"], &["a"])).is_err());
    }

    #[test]
    fn displays_as_compares_the_whole_formatted_value() {
        assert!(displays_as(&"alice", "alice"));
        assert!(!displays_as(&"alice", "alic"));
        assert!(!displays_as(&"alic", "alice"));
        assert!(!displays_as(&"", "alice"));
        assert!(displays_as(&"", ""));
        assert!(displays_as(&7u64, "7"));
        assert!(!displays_as(&7u64, "007"));
        assert!(displays_as(&format_args!("{}-{}", "a", 1), "a-1"));
    }

    #[test]
    fn route_params_in_order() {
        assert_eq!(
            route_params("/orgs/{org_id}/users/{user_id}"),
            ["org_id", "user_id"]
        );
        assert_eq!(route_params("/files/{*rest}"), ["rest"]);
        assert_eq!(route_params("/{{literal}}/{id}"), ["id"]);
        assert!(route_params("/health").is_empty());
    }

    fn owner(binding: OwnerBinding) -> Owner {
        OwnerBuilder::new("user_id", binding).build()
    }

    fn refusal(f: impl FnOnce() -> &'static str) -> String {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn registration_checks_the_binding_against_the_route() {
        let route = "/orgs/{org_id}/users/{user_id}";
        let at = |index, arity| owner(OwnerBinding::Position { index, arity });
        assert_eq!(owner_route_param("h", route, at(1, 2), None), "user_id");
        // Nested under a prefix with one parameter: the route's are the tuple's last two.
        assert_eq!(owner_route_param("h", route, at(2, 3), None), "user_id");
        let message = refusal(|| owner_route_param("member", route, at(0, 2), None));
        assert!(
            message.contains("endpoint `member` declares `owner = \"user_id\"`")
                && message.contains("position 0")
                && message.contains("`{org_id}` of the route `/orgs/{org_id}/users/{user_id}`"),
            "{message}"
        );
        let message = refusal(|| owner_route_param("h", route, at(0, 3), None));
        assert!(message.contains("nested under"), "{message}");
        let message = refusal(|| owner_route_param("h", route, at(0, 1), None));
        assert!(message.contains("has 2 parameters"), "{message}");

        let single = owner(OwnerBinding::Single);
        assert_eq!(
            owner_route_param("h", "/users/{user_id}", single, None),
            "user_id"
        );
        let message = refusal(|| owner_route_param("h", route, single, None));
        assert!(
            message.contains("binds it as the whole `Path(...)`"),
            "{message}"
        );
        let message = refusal(|| owner_route_param("h", "/users/{id}", single, None));
        assert!(message.contains("has no `{user_id}` segment"), "{message}");

        let field = owner(OwnerBinding::Field { field: "user_id" });
        assert_eq!(
            owner_route_param("h", "/t/{team}/p/{uid}", field, Some("uid")),
            "uid"
        );
        let message = refusal(|| owner_route_param("h", "/t/{uid}/p/{uid}", field, Some("uid")));
        assert!(message.contains("more than one `{uid}`"), "{message}");
        let message = refusal(|| owner_route_param("h", "/p/{user_id}", field, None));
        assert!(message.contains("cannot be told"), "{message}");

        let loader = OwnerBuilder::new("user_id", OwnerBinding::Unbound)
            .loader(Some("Order"))
            .build();
        assert_eq!(
            owner_route_param("h", "/users/{user_id}", loader, None),
            "user_id"
        );
        let message = refusal(|| owner_route_param("h", "/a/{user_id}/b/{user_id}", loader, None));
        assert!(message.contains("more than one"), "{message}");
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Renamed {
        #[serde(rename = "uid")]
        user_id: String,
        team: u64,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Numbered {
        org: String,
        #[serde(rename = "n")]
        user_id: u32,
    }

    fn uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<uuid::Uuid, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        uuid::Uuid::parse_str(&text).map_err(serde::de::Error::custom)
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Uuids {
        #[serde(rename = "org_id", deserialize_with = "uuid")]
        org: uuid::Uuid,
        #[serde(rename = "uid", deserialize_with = "uuid")]
        user_id: uuid::Uuid,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Typed {
        user_id: std::net::Ipv4Addr,
    }

    #[test]
    fn a_fields_serde_name_is_read_from_its_deserialize() {
        assert_eq!(
            owner_field_param::<Renamed>("user_id", |v| v.user_id.clone()),
            Some("uid")
        );
        assert_eq!(
            owner_field_param::<Numbered>("user_id", |v| v.user_id.to_string()),
            Some("n")
        );
        assert_eq!(
            owner_field_param::<Uuids>("user_id", |v| v.user_id.to_string()),
            Some("uid")
        );
        // Not probed (an address does not parse from its name): its own name, if serde has it.
        assert_eq!(
            owner_field_param::<Typed>("user_id", |v| v.user_id.to_string()),
            Some("user_id")
        );
        assert_eq!(owner_field_param::<String>("user_id", |v| v.clone()), None);
    }
}
