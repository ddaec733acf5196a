//! An upload contract in the OpenAPI document (feature `openapi`): the request body as a
//! `multipart/form-data` object of exactly the declared parts.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::encoding::EncodingBuilder;
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, SchemaFormat, Type,
};
use utoipa::openapi::Required;

use crate::policy::part::PartSpec;

/// The request body of an endpoint declaring `parts`: an object with one property per part
/// (`additionalProperties: false`, the parts not `optional` required), a file part a binary
/// string with its allowed types as its encoding's `contentType`, a text part a string; each
/// bounded by its `max` (`maxLength`, in bytes).
pub(crate) fn request_body(parts: &[PartSpec], body_limit: Option<usize>) -> RequestBody {
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .max_properties(Some(parts.len()));
    let mut content = ContentBuilder::new();
    for part in parts {
        let property = if part.is_file() {
            content = content.encoding(
                part.name,
                EncodingBuilder::new()
                    .content_type(Some(part.types.join(", ")))
                    .build(),
            );
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .max_length(Some(part.max))
        } else {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(part.max))
        };
        schema = schema.property(part.name, property);
        if !part.optional {
            schema = schema.required(part.name);
        }
    }
    let limit =
        body_limit.map_or_else(|| "the router's limit".to_owned(), |b| format!("{b} bytes"));
    let described: Vec<String> = parts.iter().map(super::describe::describe_part).collect();
    RequestBodyBuilder::new()
        .description(Some(format!(
            "multipart/form-data, uncompressed, at most {limit} in all, with only these parts, each at most once: {}. A file part's type is decided from its bytes and must also be the type it declares; other parts are refused (422), too large ones 413, other types 415.",
            described.join(", ")
        )))
        .required(Some(Required::True))
        .content("multipart/form-data", content.schema(Some(schema)).build())
        .build()
}
