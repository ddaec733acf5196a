//! The extraction every endpoint runs, written once here, generic over the handler's argument
//! types, one function per number of arguments (as axum's `impl_handler!` does for its
//! `Handler` impls). Not public API: the macro's generated `EndpointHandler::call` is one call
//! to one of these functions.
//!
//! Why here and not in the generated code: an `async` block emitted per endpoint is
//! type-checked per endpoint (its hidden type inferred over the generic state type, then proven
//! `Send`), which made an annotated handler several times as costly to compile as a plain one.
//! These functions are type-checked once; an endpoint only instantiates one.
//!
//! The order is the pipeline's: the `Path` that binds the owner is extracted first and checked
//! (ownership before the body is read), then the body is read through the allowlist (or
//! refused, when the endpoint takes none), then the other extractors run in the order of the
//! handler's arguments, the body extractor last. Four shapes per number `N` of extractors that
//! read the request's parts:
//!
//! - `call_N`: `N` parts extractors;
//! - `call_N_body`: `N` parts extractors, then the body extractor;
//! - `owner_N`, `owner_N_body`: the same, the first of the parts extractors binding the owner,
//!   checked with `owner` (which shows the value the handler binds) before anything else runs.
//!
//! The macro passes the extractors in that order: when the owner's `Path` is not the
//! handler's first argument, `handler` is a closure that puts the arguments back in the
//! handler's order.

use std::fmt::Display;
use std::future::Future;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::pipeline::Stage;

/// Runs the parts extractors `$ty` in order, each bound to a variable of its type's name;
/// a rejection is the response.
macro_rules! extract_parts {
    ($parts:ident, $state:ident; $($ty:ident),*) => {$(
        let $ty = match $ty::from_request_parts(&mut $parts, &$state).await {
            Ok(value) => value,
            Err(rejection) => return rejection.into_response(),
        };
    )*};
}

/// The body extractor `$ty`, last: it takes the request whole.
macro_rules! extract_body {
    ($parts:ident, $body:ident, $state:ident; $ty:ident) => {
        let $ty = match $ty::from_request(Request::from_parts($parts, $body), &$state).await {
            Ok(value) => value,
            Err(rejection) => return rejection.into_response(),
        };
    };
}

/// The body as the endpoint may read it, or the refusal.
macro_rules! read_body {
    ($stage:ident, $parts:ident, $body:ident) => {
        match $stage.body(&mut $parts, $body).await {
            Ok(body) => body,
            Err(response) => return response,
        }
    };
}

/// `call_N` and `call_N_body` for the parts extractors `$ty`.
macro_rules! without_owner {
    ($call:ident, $call_body:ident; $($ty:ident),*) => {
        /// Reads the body (refused unless the endpoint declares one it drains), runs the parts
        /// extractors in order, then the handler.
        #[allow(non_snake_case, unused_mut, unused_variables)] // `state`, with no extractor
        pub async fn $call<S, F, Fut, $($ty,)*>(
            handler: F,
            mut parts: Parts,
            body: Body,
            state: S,
            stage: Stage<'_>,
        ) -> Response
        where
            F: FnOnce($($ty,)*) -> Fut + Send,
            Fut: Future + Send,
            Fut::Output: IntoResponse,
            S: Send + Sync,
            $($ty: FromRequestParts<S> + Send,)*
        {
            drop(read_body!(stage, parts, body));
            extract_parts!(parts, state; $($ty),*);
            handler($($ty,)*).await.into_response()
        }

        /// Reads the body through the allowlist, runs the parts extractors in order, then the
        /// body extractor on what was read, then the handler.
        #[allow(non_snake_case, unused_mut)]
        pub async fn $call_body<S, F, Fut, $($ty,)* B>(
            handler: F,
            mut parts: Parts,
            body: Body,
            state: S,
            stage: Stage<'_>,
        ) -> Response
        where
            F: FnOnce($($ty,)* B) -> Fut + Send,
            Fut: Future + Send,
            Fut::Output: IntoResponse,
            S: Send + Sync,
            $($ty: FromRequestParts<S> + Send,)*
            B: FromRequest<S> + Send,
        {
            let body = read_body!(stage, parts, body);
            extract_parts!(parts, state; $($ty),*);
            extract_body!(parts, body, state; B);
            handler($($ty,)* B).await.into_response()
        }
    };
}

/// `owner_N` and `owner_N_body`: `$first` binds the owner.
macro_rules! with_owner {
    ($call:ident, $call_body:ident; $first:ident $(, $ty:ident)*) => {
        /// Runs the owner's extractor and checks ownership on the value it binds, then reads
        /// the body (refused unless the endpoint declares one it drains), runs the other parts
        /// extractors in order, then the handler.
        #[allow(non_snake_case, unused_mut)]
        pub async fn $call<S, F, Fut, P, $first, $($ty,)*>(
            handler: F,
            owner: P,
            mut parts: Parts,
            body: Body,
            state: S,
            stage: Stage<'_>,
        ) -> Response
        where
            F: FnOnce($first, $($ty,)*) -> Fut + Send,
            Fut: Future + Send,
            Fut::Output: IntoResponse,
            P: (for<'v> FnOnce(&'v $first) -> &'v dyn Display) + Send,
            S: Send + Sync,
            $first: FromRequestParts<S> + Send,
            $($ty: FromRequestParts<S> + Send,)*
        {
            extract_parts!(parts, state; $first);
            if let Some(response) = stage.refuse_owner(owner(&$first)) {
                return response;
            }
            drop(read_body!(stage, parts, body));
            extract_parts!(parts, state; $($ty),*);
            handler($first, $($ty,)*).await.into_response()
        }

        /// Runs the owner's extractor and checks ownership on the value it binds, then reads
        /// the body through the allowlist, runs the other parts extractors in order, then the
        /// body extractor on what was read, then the handler.
        #[allow(non_snake_case, unused_mut)]
        pub async fn $call_body<S, F, Fut, P, $first, $($ty,)* B>(
            handler: F,
            owner: P,
            mut parts: Parts,
            body: Body,
            state: S,
            stage: Stage<'_>,
        ) -> Response
        where
            F: FnOnce($first, $($ty,)* B) -> Fut + Send,
            Fut: Future + Send,
            Fut::Output: IntoResponse,
            P: (for<'v> FnOnce(&'v $first) -> &'v dyn Display) + Send,
            S: Send + Sync,
            $first: FromRequestParts<S> + Send,
            $($ty: FromRequestParts<S> + Send,)*
            B: FromRequest<S> + Send,
        {
            extract_parts!(parts, state; $first);
            if let Some(response) = stage.refuse_owner(owner(&$first)) {
                return response;
            }
            let body = read_body!(stage, parts, body);
            extract_parts!(parts, state; $($ty),*);
            extract_body!(parts, body, state; B);
            handler($first, $($ty,)* B).await.into_response()
        }
    };
}

without_owner!(call_0, call_0_body;);
without_owner!(call_1, call_1_body; T1);
without_owner!(call_2, call_2_body; T1, T2);
without_owner!(call_3, call_3_body; T1, T2, T3);
without_owner!(call_4, call_4_body; T1, T2, T3, T4);
without_owner!(call_5, call_5_body; T1, T2, T3, T4, T5);
without_owner!(call_6, call_6_body; T1, T2, T3, T4, T5, T6);
without_owner!(call_7, call_7_body; T1, T2, T3, T4, T5, T6, T7);
without_owner!(call_8, call_8_body; T1, T2, T3, T4, T5, T6, T7, T8);
without_owner!(call_9, call_9_body; T1, T2, T3, T4, T5, T6, T7, T8, T9);
without_owner!(call_10, call_10_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
without_owner!(call_11, call_11_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
without_owner!(call_12, call_12_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
without_owner!(call_13, call_13_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
without_owner!(call_14, call_14_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
without_owner!(call_15, call_15_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15);
without_owner!(call_16, call_16_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16);

with_owner!(owner_1, owner_1_body; T1);
with_owner!(owner_2, owner_2_body; T1, T2);
with_owner!(owner_3, owner_3_body; T1, T2, T3);
with_owner!(owner_4, owner_4_body; T1, T2, T3, T4);
with_owner!(owner_5, owner_5_body; T1, T2, T3, T4, T5);
with_owner!(owner_6, owner_6_body; T1, T2, T3, T4, T5, T6);
with_owner!(owner_7, owner_7_body; T1, T2, T3, T4, T5, T6, T7);
with_owner!(owner_8, owner_8_body; T1, T2, T3, T4, T5, T6, T7, T8);
with_owner!(owner_9, owner_9_body; T1, T2, T3, T4, T5, T6, T7, T8, T9);
with_owner!(owner_10, owner_10_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
with_owner!(owner_11, owner_11_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
with_owner!(owner_12, owner_12_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
with_owner!(owner_13, owner_13_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
with_owner!(owner_14, owner_14_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
with_owner!(owner_15, owner_15_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15);
with_owner!(owner_16, owner_16_body; T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16);
