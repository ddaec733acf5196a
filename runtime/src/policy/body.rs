//! What an endpoint declares about its body beyond `fields`: a form rather than JSON, paths
//! in the allowlist, a body it does not read, and (feature `openapi`) the JSON schemas of its
//! request and response types.

use std::fmt;

/// How the body of an endpoint is read, beyond `fields`, `body_limit` and `body = "raw"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodySpec {
    /// The body is a URL-encoded form (`Form<T>`) under the `fields` allowlist, not JSON.
    pub form: bool,
    /// `fields` holds paths (`"user.email"`, `"items[].sku"`): every level they name is
    /// checked (see [`check_paths`](crate::body::check_paths)).
    pub nested: bool,
    /// `body = "ignored"`: a body may be sent and is read and discarded under the body limit
    /// (413 past it); the handler never sees it.
    pub ignored: bool,
    /// The schemas of the handler's body and response types, for the OpenAPI document.
    pub schemas: Option<Schemas>,
}

impl BodySpec {
    /// A JSON body with a flat allowlist, or no body: what an endpoint declares without
    /// `Form<T>`, paths or `body = "ignored"`.
    pub const NONE: BodySpec = BodySpec {
        form: false,
        nested: false,
        ignored: false,
        schemas: None,
    };
}

impl Default for BodySpec {
    fn default() -> Self {
        BodySpec::NONE
    }
}

/// The schema of one type, as utoipa gives it: the schema, with the components it refers to
/// pushed onto the list (feature `openapi`).
#[cfg(feature = "openapi")]
pub type SchemaFn = fn(
    &mut Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>;

/// The schema of one type (without the `openapi` feature, never set).
#[cfg(not(feature = "openapi"))]
pub type SchemaFn = fn();

/// The handler's body type and its success response type, where they have a schema
/// (`utoipa::ToSchema` with the `openapi` feature); `None` where not.
#[derive(Clone, Copy, Default)]
pub struct TypeSchemas {
    /// `T` of the handler's `Json<T>` or `Form<T>` argument.
    pub request: Option<SchemaFn>,
    /// `T` of the `Json<T>` the handler returns.
    pub response: Option<SchemaFn>,
    /// `true` when the handler chooses its success status (`(StatusCode, Json<T>)`): the
    /// response is documented as `2XX` rather than `200`.
    pub any_success_status: bool,
}

impl fmt::Debug for TypeSchemas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeSchemas")
            .field("request", &self.request.is_some())
            .field("response", &self.response.is_some())
            .field("any_success_status", &self.any_success_status)
            .finish()
    }
}

/// Where the macro put an endpoint's [`TypeSchemas`]: a function, since what implements
/// `ToSchema` is found by method resolution, which a `const` cannot run.
#[derive(Clone, Copy)]
pub struct Schemas(pub fn() -> TypeSchemas);

impl Schemas {
    /// The schemas.
    pub fn get(&self) -> TypeSchemas {
        (self.0)()
    }
}

impl PartialEq for Schemas {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for Schemas {}

impl fmt::Debug for Schemas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Schemas(..)")
    }
}

/// Not public API: the schema function of `T` when `T: utoipa::ToSchema`, found by autoref
/// specialization at the macro's call site, where `T` is concrete.
#[cfg(feature = "openapi")]
#[doc(hidden)]
pub mod probe {
    use std::marker::PhantomData;

    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;

    use super::SchemaFn;

    /// Holds the type being probed.
    pub struct Probe<T: ?Sized>(pub PhantomData<T>);

    fn collect<T: utoipa::ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
        T::schemas(out);
        T::schema()
    }

    /// Chosen when `T: ToSchema` (one reference more to strip).
    pub trait HasSchema {
        /// The schema function.
        fn schema_fn(&self) -> Option<SchemaFn>;
    }

    impl<T: utoipa::ToSchema> HasSchema for &Probe<T> {
        fn schema_fn(&self) -> Option<SchemaFn> {
            Some(collect::<T>)
        }
    }

    /// The fallback: no schema.
    pub trait NoSchema {
        /// `None`.
        fn schema_fn(&self) -> Option<SchemaFn>;
    }

    impl<T: ?Sized> NoSchema for Probe<T> {
        fn schema_fn(&self) -> Option<SchemaFn> {
            None
        }
    }
}

/// Not public API: `Option<SchemaFn>` for a type, `Some` when it implements
/// `utoipa::ToSchema` and the `openapi` feature is on.
#[cfg(feature = "openapi")]
#[doc(hidden)]
#[macro_export]
macro_rules! __schema_of {
    ($t:ty) => {{
        #[allow(unused_imports)]
        use $crate::__private::probe::{HasSchema as _, NoSchema as _};
        (&&$crate::__private::probe::Probe::<$t>(::core::marker::PhantomData)).schema_fn()
    }};
}

/// Not public API: without the `openapi` feature no type has a schema.
#[cfg(not(feature = "openapi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __schema_of {
    ($t:ty) => {
        ::core::option::Option::None
    };
}
