//! GraphQL under the same contract (feature `graphql`), on async-graphql.
//!
//! The endpoint is an ordinary `#[secure_endpoint]` POST handler whose contract names a
//! [`GraphQlLimits`] constant with `graphql = LIMITS`; authentication, authorization, the rate
//! limit and the body limit run as for any endpoint. The router then reads the body as JSON
//! under the body limit, accepts one request object or a batch of them (each with only
//! `query`, `operationName`, `variables` and `extensions`), charges every operation of a batch
//! to the caller's rate limit (a batch of 50 costs 50) and refuses a batch over
//! [`GraphQlLimits::max_batch`]. [`SecureSchema::execute`] applies the rest to each operation:
//!
//! - the persisted-query allowlist when [`GraphQlLimits::persisted_only`] (by SHA-256 of the
//!   document, sent as `query` or as `extensions.persistedQuery.sha256Hash`);
//! - depth (fields nested in fields, through fragments), aliases, root fields and
//!   introspection (`__schema`, `__type`: only with [`GraphQlLimits::introspection_role`]),
//!   checked on the parsed document, for every operation of a batch before any runs;
//! - complexity (async-graphql's `limit_complexity`, with the per-field costs and list
//!   multipliers of its `complexity` attributes; `limit_depth` too, as a second check), as
//!   each operation starts.
//!
//! A document that breaks a limit is refused with a 400 problem (`graphql_*` codes) before it
//! runs, recorded as a `validation_rejected` security event whose reason names the limit.
//! Resolver errors are masked: the message becomes `Internal error` with an `errorId`
//! extension, and the original is logged under the tracing target [`TARGET`] with that id.
//! The errors of the guards here ([`not_found`], [`forbidden`], [`unauthenticated`]) are
//! kept: they say nothing internal.
//!
//! Inside the graph, the request's [`Principal`] is in the context data: guard fields with
//! [`RequireRole`], [`RequireScope`] or [`Authenticated`], and resolve owned objects with
//! [`owned`], which turns another principal's object into the same error as a missing one.
//! [`unlisted_fields`] makes an unreviewed field fail a test.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{
    BatchRequest, BatchResponse, ObjectType, Schema, SchemaBuilder, ServerError, SubscriptionType,
};
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue};
use sha2::{Digest, Sha256};

use crate::extract::Principal;
use crate::policy::GraphQlLimits;
use crate::problem::Problem;

/// The re-exported async-graphql, whose derives the schema is written with.
pub use async_graphql;

/// The tracing target masked resolver errors are logged under, with their error id.
pub const TARGET: &str = "secure_endpoint::graphql";

/// A GraphQL request or batch, as the router admitted it (the handler's last argument on a
/// `graphql = LIMITS` endpoint), with the caller's principal.
#[derive(Debug)]
pub struct GraphQlRequest {
    batch: BatchRequest,
    principal: Option<Principal>,
}

impl GraphQlRequest {
    /// The authenticated principal, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }
}

impl<S: Send + Sync> FromRequest<S> for GraphQlRequest {
    type Rejection = Problem;

    async fn from_request(req: Request, _: &S) -> Result<Self, Problem> {
        let principal = req
            .extensions()
            .get::<crate::extract::RequestContext>()
            .and_then(|c| c.principal.clone());
        // The router has read the body under the limit and checked its shape already.
        let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .map_err(|_| Problem::bad_request("The request body could not be read."))?;
        let batch: BatchRequest = serde_json::from_slice(&bytes).map_err(|_| {
            Problem::bad_request("The request body is not a GraphQL request.")
                .with_code("invalid_graphql_request")
        })?;
        Ok(GraphQlRequest { batch, principal })
    }
}

/// What a GraphQL endpoint answers: `application/json`, one response or a batch of them.
#[derive(Debug)]
pub struct GraphQlResponse(BatchResponse);

impl GraphQlResponse {
    /// The responses (one for a single request).
    pub fn responses(&self) -> Vec<&async_graphql::Response> {
        match &self.0 {
            BatchResponse::Single(r) => vec![r],
            BatchResponse::Batch(rs) => rs.iter().collect(),
        }
    }
}

impl IntoResponse for GraphQlResponse {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => {
                let mut response = body.into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            Err(_) => Problem::internal().into_response(),
        }
    }
}

/// An async-graphql schema built under a [`GraphQlLimits`] constant (the one the endpoint's
/// contract names, so the inventory shows what runs), with an optional persisted-query
/// allowlist.
pub struct SecureSchema<Q, M, S> {
    schema: Schema<Q, M, S>,
    limits: &'static GraphQlLimits,
    persisted: HashMap<[u8; 32], String>,
}

impl<Q, M, S> std::fmt::Debug for SecureSchema<Q, M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureSchema")
            .field("limits", self.limits)
            .field("persisted", &self.persisted.len())
            .finish()
    }
}

impl<Q, M, S> SecureSchema<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    /// Finishes `builder` with `limits`' depth and complexity and without field suggestions
    /// (which would map the schema to whoever guesses).
    pub fn new(builder: SchemaBuilder<Q, M, S>, limits: &'static GraphQlLimits) -> Self {
        let schema = builder
            .limit_depth(limits.max_depth)
            .limit_complexity(limits.max_complexity)
            .disable_suggestions()
            .finish();
        SecureSchema {
            schema,
            limits,
            persisted: HashMap::new(),
        }
    }

    /// The persisted-query allowlist: these documents, by SHA-256 (applied when
    /// [`GraphQlLimits::persisted_only`]; with it and no documents, every request is refused).
    pub fn persisted_queries<I: IntoIterator<Item = String>>(mut self, documents: I) -> Self {
        for document in documents {
            self.persisted
                .insert(Sha256::digest(document.as_bytes()).into(), document);
        }
        self
    }

    /// The schema, for SDL export and tests.
    pub fn schema(&self) -> &Schema<Q, M, S> {
        &self.schema
    }

    /// Checks every operation of `request` against the limits (all before any runs; complexity
    /// as each starts), then runs them with the principal in the context data and masks
    /// resolver errors.
    pub async fn execute(&self, request: GraphQlRequest) -> Result<GraphQlResponse, Problem> {
        let GraphQlRequest { batch, principal } = request;
        let introspection = match (self.limits.introspection_role, &principal) {
            (Some(role), Some(p)) => p.has_role(role),
            _ => false,
        };
        let (single, mut requests) = match batch {
            BatchRequest::Single(request) => (true, vec![request]),
            BatchRequest::Batch(requests) => (false, requests),
        };
        for request in &mut requests {
            self.check(request, introspection)?;
        }
        let mut responses = Vec::with_capacity(requests.len());
        for mut request in requests {
            if !introspection {
                request = request.disable_introspection();
            }
            if let Some(p) = &principal {
                request = request.data(p.clone());
            }
            let mut response = self.schema.execute(request).await;
            if response.data == async_graphql::Value::Null {
                if let Some(problem) = response.errors.iter().find_map(limit_problem) {
                    return Err(problem);
                }
            }
            for error in &mut response.errors {
                mask(error);
            }
            responses.push(response);
        }
        Ok(GraphQlResponse(if single {
            BatchResponse::Single(responses.pop().expect("one request"))
        } else {
            BatchResponse::Batch(responses)
        }))
    }

    /// The persisted-query allowlist, then the document's aliases, root fields and
    /// introspection.
    fn check(
        &self,
        request: &mut async_graphql::Request,
        introspection: bool,
    ) -> Result<(), Problem> {
        if self.limits.persisted_only {
            let hash = request
                .extensions
                .get("persistedQuery")
                .and_then(|p| match p {
                    async_graphql::Value::Object(o) => o.get("sha256Hash"),
                    _ => None,
                })
                .and_then(|h| match h {
                    async_graphql::Value::String(h) => decode_hex(h),
                    _ => None,
                });
            let key: [u8; 32] = match hash {
                Some(hash) if request.query.is_empty() => hash,
                _ => Sha256::digest(request.query.as_bytes()).into(),
            };
            match self.persisted.get(&key) {
                Some(document) => request.query = document.clone(),
                None => {
                    return Err(refused(
                        "graphql_persisted_query_not_found",
                        "This document is not in the persisted-query allowlist.",
                    ))
                }
            }
        }
        // A document that does not parse is answered by the executor (a GraphQL error).
        let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
            return Ok(());
        };
        let shape = Shape::of(&document);
        if shape.depth > self.limits.max_depth {
            return Err(too_deep());
        }
        if shape.aliases > self.limits.max_aliases {
            return Err(refused(
                "graphql_too_many_aliases",
                "The document uses more aliases than this endpoint accepts.",
            ));
        }
        if shape.root_fields > self.limits.max_root_fields {
            return Err(refused(
                "graphql_too_many_root_fields",
                "An operation selects more root fields than this endpoint accepts.",
            ));
        }
        if shape.introspection && !introspection {
            return Err(refused(
                "graphql_introspection_disabled",
                "Introspection is not available to this caller.",
            ));
        }
        Ok(())
    }
}

/// A 400 problem for a document that breaks a limit; `code` is also the event's reason.
fn refused(code: &'static str, detail: &'static str) -> Problem {
    Problem::bad_request(detail)
        .with_code(code)
        .with_reason(code)
}

fn too_deep() -> Problem {
    refused(
        "graphql_too_deep",
        "The document nests deeper than this endpoint accepts.",
    )
}

/// The problem for async-graphql's own limit errors (raised before anything runs).
fn limit_problem(error: &ServerError) -> Option<Problem> {
    match error.message.as_str() {
        "Query is nested too deep." => Some(too_deep()),
        "Query is too complex." => Some(refused(
            "graphql_too_complex",
            "The document is more complex than this endpoint accepts.",
        )),
        _ => None,
    }
}

/// The `code` extension of the errors made here, which are kept as they are.
const KEPT_CODES: &[&str] = &["NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"];

/// Replaces a resolver error's message with `Internal error` and an error id, logging the
/// original under [`TARGET`]. Errors without a path (the document's) and the guards' are kept.
fn mask(error: &mut ServerError) {
    if error.path.is_empty() {
        return;
    }
    let kept = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(
            |c| matches!(c, async_graphql::Value::String(c) if KEPT_CODES.contains(&c.as_str())),
        );
    if kept {
        return;
    }
    let error_id = uuid::Uuid::new_v4().to_string();
    tracing::error!(target: TARGET, error_id = %error_id, message = %error.message, "GraphQL resolver error");
    error.message = "Internal error".to_owned();
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "INTERNAL");
    extensions.set("errorId", error_id);
    error.extensions = Some(extensions);
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// What the limits look at in a parsed document.
#[derive(Debug, Default)]
struct Shape {
    /// Fields nested in fields, through fragments (`{ me { id } }` is 2); at most the visit
    /// budget's worth is walked, and a document past it counts as infinitely deep.
    depth: usize,
    aliases: usize,
    root_fields: usize,
    introspection: bool,
}

impl Shape {
    fn of(document: &ExecutableDocument) -> Shape {
        let mut shape = Shape::default();
        let mut sets: Vec<&SelectionSet> = Vec::new();
        let operations: Vec<&SelectionSet> = match &document.operations {
            DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
            DocumentOperations::Multiple(ops) => {
                ops.values().map(|op| &op.node.selection_set.node).collect()
            }
        };
        for set in &operations {
            let mut seen = HashSet::new();
            shape.root_fields = shape.root_fields.max(root_fields(document, set, &mut seen));
        }
        shape.depth = depth(document, &operations);
        sets.extend(operations);
        sets.extend(
            document
                .fragments
                .values()
                .map(|f| &f.node.selection_set.node),
        );
        // Every selection set once, without recursion.
        while let Some(set) = sets.pop() {
            for item in &set.items {
                match &item.node {
                    Selection::Field(field) => {
                        let field = &field.node;
                        if field.alias.is_some() {
                            shape.aliases += 1;
                        }
                        if matches!(field.name.node.as_str(), "__schema" | "__type") {
                            shape.introspection = true;
                        }
                        sets.push(&field.selection_set.node);
                    }
                    Selection::InlineFragment(f) => sets.push(&f.node.selection_set.node),
                    Selection::FragmentSpread(_) => {}
                }
            }
        }
        shape
    }
}

/// Selections walked at most to measure depth (fragments are walked where they are spread, so
/// nested spreads could multiply the work without it).
const DEPTH_BUDGET: usize = 10_000;

/// The deepest field nesting of the operations, without recursion; `usize::MAX` when the walk
/// passes [`DEPTH_BUDGET`] or a fragment spreads itself.
fn depth(document: &ExecutableDocument, operations: &[&SelectionSet]) -> usize {
    let mut stack: Vec<(&SelectionSet, usize, Vec<&str>)> =
        operations.iter().map(|set| (*set, 0, Vec::new())).collect();
    let (mut deepest, mut walked) = (0, 0);
    while let Some((set, depth, fragments)) = stack.pop() {
        for item in &set.items {
            walked += 1;
            if walked > DEPTH_BUDGET {
                return usize::MAX;
            }
            match &item.node {
                Selection::Field(field) => {
                    deepest = deepest.max(depth + 1);
                    stack.push((&field.node.selection_set.node, depth + 1, fragments.clone()));
                }
                Selection::InlineFragment(f) => {
                    stack.push((&f.node.selection_set.node, depth, fragments.clone()))
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if fragments.contains(&name) {
                        return usize::MAX;
                    }
                    if let Some(f) = document.fragments.get(&s.node.fragment_name.node) {
                        let mut inner = fragments.clone();
                        inner.push(name);
                        stack.push((&f.node.selection_set.node, depth, inner));
                    }
                }
            }
        }
    }
    deepest
}

/// The fields an operation selects at its root, through fragments (each fragment once),
/// without recursion.
fn root_fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut HashSet<&'a str>,
) -> usize {
    let (mut n, mut stack) = (0, vec![set]);
    while let Some(set) = stack.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(_) => n += 1,
                Selection::InlineFragment(f) => stack.push(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => {
                    let name = &s.node.fragment_name.node;
                    if seen.insert(name.as_str()) {
                        if let Some(f) = document.fragments.get(name) {
                            stack.push(&f.node.selection_set.node);
                        }
                    }
                }
            }
        }
    }
    n
}

mod guard;
pub use guard::{
    forbidden, not_found, owned, principal, unauthenticated, unlisted_fields, Authenticated,
    RequireRole, RequireScope,
};

#[cfg(test)]
mod tests;
