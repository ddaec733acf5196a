//! Request and response bodies as JSON schemas from the handlers' types (`utoipa::ToSchema`),
//! cut to the contract: a request body shows only the allowlisted fields, at every level a
//! path names (`additionalProperties: false`, `required` where the type requires the field),
//! with the type's own schema for each listed field. Without a schema for the type, the
//! allowlist's shape alone (each leaf any value).

use std::collections::BTreeMap;

use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayItems, KnownFormat, Object, ObjectBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::RefOr;

/// The components a type's schema refers to (`#/components/schemas/<name>`).
pub(super) type Components = Vec<(String, RefOr<Schema>)>;

/// A level of the allowlist: each key, in the order listed, with how many arrays its value
/// is and, for a parent, the level below.
#[derive(Default)]
struct Level {
    keys: Vec<(String, usize, Option<Level>)>,
}

impl Level {
    fn insert(&mut self, path: &str) {
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        let name = head.trim_end_matches("[]");
        let arrays = (head.len() - name.len()) / 2;
        let at = match self.keys.iter().position(|(k, _, _)| k == name) {
            Some(at) => at,
            None => {
                self.keys.push((name.to_owned(), arrays, None));
                self.keys.len() - 1
            }
        };
        if let Some(rest) = rest {
            self.keys[at]
                .2
                .get_or_insert_with(Level::default)
                .insert(rest);
        }
    }
}

/// `schema` with `$ref`s to components and `null` alternatives (`Option<T>`) looked through,
/// as an object or an array, if it is one.
fn resolve<'s>(schema: &'s RefOr<Schema>, components: &'s Components) -> Option<&'s Schema> {
    let mut at = schema;
    for _ in 0..16 {
        match at {
            RefOr::Ref(r) => {
                let name = r.ref_location.rsplit('/').next()?;
                at = &components.iter().find(|(n, _)| n == name)?.1;
            }
            RefOr::T(Schema::OneOf(one)) => {
                let mut real = one.items.iter().filter(|s| !is_null(s));
                let first = real.next()?;
                if real.next().is_some() {
                    return None;
                }
                at = first;
            }
            RefOr::T(Schema::AllOf(all)) if all.items.len() == 1 => at = &all.items[0],
            RefOr::T(schema) => return Some(schema),
        }
    }
    None
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

/// The properties and required names of an object schema, if `schema` is one.
fn object_of(schema: Option<&Schema>) -> Option<&Object> {
    match schema {
        Some(Schema::Object(o)) => Some(o),
        _ => None,
    }
}

/// The element schema of an array schema.
fn items_of(schema: Option<&Schema>) -> Option<&RefOr<Schema>> {
    match schema {
        Some(Schema::Array(Array {
            items: ArrayItems::RefOrSchema(items),
            ..
        })) => Some(items),
        _ => None,
    }
}

/// The schema of one allowlist level, from the type's schema at that level when known.
fn level_schema(level: &Level, typed: Option<&Object>, components: &Components) -> Schema {
    let mut out = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .max_properties(Some(level.keys.len()));
    for (name, arrays, below) in &level.keys {
        let own = typed.and_then(|o| o.properties.get(name));
        let property: RefOr<Schema> = match below {
            // A leaf: the type's schema of the field, whatever it is; any value without one.
            None => own
                .cloned()
                .unwrap_or_else(|| RefOr::T(Schema::default_any())),
            // A parent: arrays of objects of the level below.
            Some(below) => {
                let mut inner = own.and_then(|s| resolve(s, components));
                for _ in 0..*arrays {
                    inner = items_of(inner).and_then(|s| resolve(s, components));
                }
                let mut schema = level_schema(below, object_of(inner), components);
                for _ in 0..*arrays {
                    schema = Schema::Array(Array::new(RefOr::T(schema)));
                }
                RefOr::T(schema)
            }
        };
        out = out.property(name.clone(), property);
        if typed.is_some_and(|o| o.required.iter().any(|r| r == name)) {
            out = out.required(name.clone());
        }
    }
    Schema::Object(out.build())
}

/// Any-value schema (`{}`), for a listed field whose type has no schema.
trait AnyValue {
    fn default_any() -> Self;
}

impl AnyValue for Schema {
    fn default_any() -> Self {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .build(),
        )
    }
}

/// The request body schema of an allowlisted endpoint: the allowlist's shape, with the body
/// type's schemas (from `request`, if any) for the listed fields. The components the result
/// refers to are added to `components`.
pub(super) fn request_schema(
    fields: &[&str],
    request: Option<crate::policy::SchemaFn>,
    components: &mut Components,
) -> Schema {
    let mut root = Level::default();
    for field in fields {
        root.insert(field);
    }
    let typed = request.map(|f| f(components));
    let object = typed
        .as_ref()
        .and_then(|t| object_of(resolve(t, components)))
        .cloned();
    level_schema(&root, object.as_ref(), components)
}

/// The response schema of a handler's `Json<T>`, its components added to `components`.
pub(super) fn response_schema(
    response: crate::policy::SchemaFn,
    components: &mut Components,
) -> RefOr<Schema> {
    response(components)
}

/// The components collected, deduplicated by name (the first kept), for the document.
pub(super) fn unique(components: Components) -> BTreeMap<String, RefOr<Schema>> {
    let mut out = BTreeMap::new();
    for (name, schema) in components {
        out.entry(name).or_insert(schema);
    }
    out
}

/// `List<T>` serializes as `{"data": [...], "count": n}`.
impl<T: utoipa::ToSchema> utoipa::PartialSchema for crate::exposure::List<T> {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("data", Array::new(T::schema()))
                .property(
                    "count",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                        .minimum(Some(0))
                        .maximum(Some(i64::MAX)),
                )
                .required("data")
                .required("count")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .build(),
        ))
    }
}

impl<T: utoipa::ToSchema> utoipa::ToSchema for crate::exposure::List<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(format!("List_{}", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct NewUser {
        #[schema(max_length = 254)]
        email: String,
        #[schema(max_length = 64)]
        username: String,
        bio: Option<String>,
        /// Not allowlisted: not in the document.
        role: String,
    }

    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Register {
        user: NewUser,
    }

    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        qty: u32,
        price: u64,
    }

    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Order {
        items: Vec<Line>,
        note: Option<String>,
    }

    fn collect<T: utoipa::ToSchema>(out: &mut Components) -> RefOr<Schema> {
        T::schemas(out);
        T::schema()
    }

    fn shape(fields: &[&str], request: Option<crate::policy::SchemaFn>) -> Value {
        let mut components = Components::new();
        serde_json::to_value(request_schema(fields, request, &mut components)).unwrap()
    }

    #[test]
    fn an_envelope_shows_its_nested_shape_with_the_types_schemas() {
        let schema = shape(
            &["user.email", "user.username", "user.bio"],
            Some(collect::<Register>),
        );
        let user = &schema["properties"]["user"];
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["user"]));
        assert_eq!(user["additionalProperties"], false);
        assert_eq!(user["required"], json!(["email", "username"]));
        assert_eq!(user["properties"]["email"]["maxLength"], 254);
        assert_eq!(user["properties"]["username"]["type"], "string");
        // Only the allowlisted fields: `role` is the type's, not the contract's.
        assert!(user["properties"].get("role").is_none());
        assert_eq!(user["maxProperties"], 3);
    }

    #[test]
    fn array_elements_show_as_arrays_of_the_listed_fields() {
        let schema = shape(
            &["note", "items[].sku", "items[].qty"],
            Some(collect::<Order>),
        );
        let items = &schema["properties"]["items"];
        assert_eq!(items["type"], "array");
        let line = &items["items"];
        assert_eq!(line["additionalProperties"], false);
        assert_eq!(line["required"], json!(["sku", "qty"]));
        assert!(line["properties"].get("price").is_none());
        assert_eq!(line["properties"]["qty"]["format"], "int32");
        assert_eq!(schema["required"], json!(["items"]));
    }

    #[test]
    fn without_a_type_the_allowlist_alone_gives_the_shape() {
        let schema = shape(&["user.email", "items[].sku", "note"], None);
        assert_eq!(
            schema["properties"]["user"]["properties"]["email"],
            json!({})
        );
        assert_eq!(
            schema["properties"]["items"]["items"]["additionalProperties"],
            false
        );
        assert!(schema.get("required").is_none());
    }
}
