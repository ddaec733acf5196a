//! Stage 2: [`Raw`] → [`Endpoint`]. The default-deny contract and its cross-checks with the
//! function signature. Every error is collected so the user sees all of them at once.

use quote::ToTokens;
use syn::{FnArg, Ident, LitStr, Pat, Type};

use crate::ctxt::Ctxt;
use crate::exposure::{self, TopLevelArray};
use crate::model::{
    Auth, BindKind, BodyLimit, Date, Endpoint, Lifecycle, Owner, OwnerBind, Rate, Raw, RawArg,
    RawValue, Scheme,
};
use crate::policy_file::{self, PolicyFile};
use crate::symbol::*;

/// Largest allowlist the runtime tracks (duplicates are detected with a 64-bit mask).
const MAX_FIELDS: usize = 64;

/// Checks the attribute against the contract, the function and the organisation's policy file
/// (if one applies); returns the validated endpoint.
pub(crate) fn check(raw: Raw, policy: Option<&PolicyFile>) -> syn::Result<Endpoint> {
    let cx = Ctxt::new();
    let Raw {
        attr_span,
        args,
        func,
    } = raw;
    let name = func.sig.ident.clone();

    // ---- the function itself -------------------------------------------------------------
    if func.sig.asyncness.is_none() {
        cx.error_spanned_by(
            func.sig.fn_token,
            format!("endpoint `{name}` must be an `async fn`; add `async` before `fn`"),
        );
    }
    if !func.sig.generics.params.is_empty() || func.sig.generics.where_clause.is_some() {
        let msg = format!(
            "endpoint `{name}` cannot be generic; use concrete types (state via `State<T>`)"
        );
        match (
            &func.sig.generics.where_clause,
            func.sig.generics.params.is_empty(),
        ) {
            (Some(where_clause), true) => cx.error_spanned_by(where_clause, msg),
            _ => cx.error_spanned_by(&func.sig.generics, msg),
        }
    }
    for arg in &func.sig.inputs {
        if let FnArg::Typed(t) = arg {
            if let Type::ImplTrait(it) = &*t.ty {
                cx.error_spanned_by(
                    it,
                    format!("endpoint `{name}` cannot take `impl Trait` arguments; name the extractor type"),
                );
            }
        }
    }
    for arg in &func.sig.inputs {
        if let FnArg::Receiver(recv) = arg {
            cx.error_spanned_by(
                recv,
                "an endpoint cannot take `self`; make it a free `async fn`",
            );
        }
    }
    if let Some(variadic) = &func.sig.variadic {
        cx.error_spanned_by(variadic, "an endpoint cannot be variadic");
    }

    // ---- keys: unknown, duplicate ---------------------------------------------------------
    let mut slots: Vec<Option<&RawArg>> = vec![None; ALL_KEYS.len()];
    for arg in &args {
        let key = arg.key.to_string();
        match ALL_KEYS.iter().position(|k| *k == key) {
            Some(i) => {
                if slots[i].is_some() {
                    cx.error_spanned_by(
                        &arg.key,
                        format!("duplicate key `{key}`; each key may appear once"),
                    );
                } else {
                    slots[i] = Some(arg);
                }
            }
            None => cx.error_spanned_by(&arg.key, unknown(&key, "key", ALL_KEYS)),
        }
    }
    let get = |key: &str| slots[ALL_KEYS.iter().position(|k| *k == key).unwrap()];

    // ---- auth ------------------------------------------------------------------------------
    let auth = match get(AUTH) {
        None => {
            cx.error_at(
                attr_span,
                format!(
                    "endpoint `{name}` declares no `auth`; add `auth = \"jwt\"` \
                     (or `auth = \"none\"` to make it public on purpose)"
                ),
            );
            None
        }
        Some(arg) => auth_value(&cx, arg),
    };
    let public = matches!(auth, Some(Auth::None));
    let optional = matches!(auth, Some(Auth::Optional(_)));

    // ---- authorization ------------------------------------------------------------------------
    let any_authenticated = match get(ALLOW) {
        None => false,
        Some(arg) => match &arg.value {
            RawValue::Str(s) if s.value() == "authenticated" => true,
            RawValue::Str(s) => {
                cx.error_spanned_by(s, unknown(&s.value(), "`allow` value", ALLOW_VALUES));
                false
            }
            other => {
                cx.error_spanned_by(
                    value_tokens(other),
                    "`allow` takes a string: `allow = \"authenticated\"`",
                );
                false
            }
        },
    };
    let roles = get(ROLES)
        .map(|arg| string_list(&cx, arg, "role"))
        .unwrap_or_default();
    let scopes = get(SCOPES)
        .map(|arg| string_list(&cx, arg, "scope"))
        .unwrap_or_default();
    let owner_param = get(OWNER).and_then(|arg| match &arg.value {
        RawValue::Str(s) if is_ident(&s.value()) => Some(s.clone()),
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                "`owner` names a path parameter, e.g. `owner = \"user_id\"`",
            );
            None
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`owner` takes a string: `owner = \"user_id\"`",
            );
            None
        }
    });
    let loader = get(LOADER).and_then(|arg| match &arg.value {
        RawValue::Path(p) => Some(p.clone()),
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`loader` takes a type that implements `OwnedResource`, e.g. `loader = Order`",
            );
            None
        }
    });
    if let (Some(arg), None) = (get(LOADER), get(OWNER)) {
        cx.error_spanned_by(
            &arg.key,
            "`loader` needs `owner` to name the path parameter it loads by, e.g. `owner = \"order_id\"`",
        );
    }
    let owner_status = get(OWNER_STATUS).and_then(|arg| owner_status_value(&cx, arg));
    if let (Some(arg), None) = (get(OWNER_STATUS), get(OWNER)) {
        cx.error_spanned_by(
            &arg.key,
            "`owner_status` sets the status for another principal's resource and needs `owner`; \
             add `owner = \"<path param>\"` (with a `loader` when the id names a resource), or \
             remove `owner_status`",
        );
    }

    if public {
        for key in [ALLOW, ROLES, SCOPES, OWNER] {
            if let Some(arg) = get(key) {
                cx.error_spanned_by(
                    &arg.key,
                    format!(
                        "`{key}` contradicts `auth = \"none\"`: a public endpoint has no principal \
                         to check; remove `{key}` or require authentication"
                    ),
                );
            }
        }
    } else if optional {
        for key in [ALLOW, ROLES, SCOPES, OWNER] {
            if let Some(arg) = get(key) {
                cx.error_spanned_by(
                    &arg.key,
                    format!(
                        "`{key}` contradicts optional authentication (`auth = optional(...)`): an \
                         anonymous caller has no principal to check; require a credential \
                         (`auth = \"jwt\"`) to use `{key}`, or remove `{key}` and decide in the \
                         handler with its `Option<Principal>`"
                    ),
                );
            }
        }
    } else if auth.is_some() {
        let declared = [ALLOW, ROLES, SCOPES, OWNER]
            .iter()
            .any(|k| get(k).is_some());
        if !declared {
            cx.error_at(
                attr_span,
                format!(
                    "endpoint `{name}` authenticates callers but declares no authorization; add \
                     `owner = \"<path param>\"`, `roles = [...]`, `scopes = [...]`, or \
                     `allow = \"authenticated\"` to admit any authenticated principal"
                ),
            );
        }
        if any_authenticated {
            for key in [ROLES, SCOPES, OWNER] {
                if let Some(arg) = get(key) {
                    cx.error_spanned_by(
                        &arg.key,
                        format!(
                            "`{key}` contradicts `allow = \"authenticated\"`, which admits every \
                             authenticated principal; remove one of them"
                        ),
                    );
                }
            }
        }
    }

    // ---- rate ------------------------------------------------------------------------------------
    let rate = get(RATE).and_then(|arg| match &arg.value {
        RawValue::Str(s) => match parse_rate(&s.value()) {
            Ok((count, period_secs)) => Some(Rate {
                count,
                period_secs,
                text: s.value(),
            }),
            Err(why) => {
                cx.error_spanned_by(
                    s,
                    format!(
                        "malformed rate `{}`: {why}; write `<count>/<period>` such as \
                         \"100/15m\", \"10/s\" or \"1000/1h\"",
                        s.value()
                    ),
                );
                None
            }
        },
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`rate` takes a string such as \"100/15m\"",
            );
            None
        }
    });

    // ---- fields and the body ---------------------------------------------------------------------
    let fields = get(FIELDS).map(|arg| {
        let list = string_list(&cx, arg, "field");
        if list.is_empty() && matches!(arg.value, RawValue::List { .. }) {
            cx.error_spanned_by(
                value_tokens(&arg.value),
                "`fields` is empty; list the body fields callers may send",
            );
        }
        if list.len() > MAX_FIELDS {
            cx.error_spanned_by(
                value_tokens(&arg.value),
                format!(
                    "`fields` lists {} names; at most {MAX_FIELDS} are supported",
                    list.len()
                ),
            );
        }
        for (i, field) in list.iter().enumerate() {
            if field.value().is_empty() {
                cx.error_spanned_by(field, "a field name cannot be empty");
            }
            if list[..i].iter().any(|f| f.value() == field.value()) {
                cx.error_spanned_by(field, format!("field `{}` is listed twice", field.value()));
            }
        }
        list
    });
    // Paths (`user.email`, `items[].sku`): well formed and agreeing with each other.
    let nested = fields
        .as_ref()
        .is_some_and(|list| crate::fields::check_paths(&cx, list));

    let inputs: Vec<&syn::PatType> = func
        .sig
        .inputs
        .iter()
        .filter_map(|a| {
            if let FnArg::Typed(t) = a {
                Some(t)
            } else {
                None
            }
        })
        .collect();
    // The body extractor must be the last argument; with `fields` the last argument is taken to
    // be the body extractor whatever its name (a custom `FromRequest` type).
    let last_is_body = inputs.last().is_some_and(|arg| is_body_type(&arg.ty));
    for (i, arg) in inputs.iter().enumerate() {
        if i + 1 != inputs.len() && is_body_type(&arg.ty) {
            cx.error_spanned_by(
                &arg.ty,
                "an extractor that reads the body must be the last argument of the handler",
            );
        }
    }
    let body_arg = match (&fields, last_is_body) {
        (_, true) => Some(inputs.len() - 1),
        (Some(_), false) if inputs.last().is_some_and(|a| !is_parts_type(&a.ty)) => {
            Some(inputs.len() - 1)
        }
        _ => None,
    };
    // `body = "raw"`: the body unparsed, as `Bytes` or `String` (a webhook's payload, whose
    // top-level keys the sender chooses), under the body limit; never with `fields`.
    let raw_body = get(BODY).is_some_and(|arg| match &arg.value {
        RawValue::Str(s) if BODY_VALUES.contains(&s.value().as_str()) => s.value() == "raw",
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`body` takes \"raw\" (the handler takes the body unparsed, as `Bytes` or \
                 `String`) or \"ignored\" (a body may be sent; it is drained unread)",
            );
            false
        }
    });
    // `body = "ignored"`: a body may be sent and is discarded unread under the limit.
    let body_ignored = get(BODY)
        .is_some_and(|arg| matches!(&arg.value, RawValue::Str(s) if s.value() == "ignored"));
    if body_ignored {
        let key = &get(BODY).unwrap().key;
        if get(FIELDS).is_some() {
            cx.error_spanned_by(
                key,
                "`fields` and `body = \"ignored\"` exclude each other: `fields` allowlists a \
                 body the handler reads, `body = \"ignored\"` drops it unread",
            );
        } else if get(GRAPHQL).is_some() {
            cx.error_spanned_by(
                key,
                "`graphql` and `body = \"ignored\"` exclude each other: a GraphQL request is \
                 its body",
            );
        } else if let Some(arg) = inputs.last().filter(|a| is_body_type(&a.ty)) {
            cx.error_spanned_by(
                &arg.ty,
                format!(
                    "`body = \"ignored\"` drops the body unread, but endpoint `{name}` reads \
                     it; remove this argument, or declare the body with `fields = [...]` (JSON \
                     or `Form<T>`) or `body = \"raw\"` (`Bytes`, `String`)"
                ),
            );
        }
    }
    // `Form<T>`: a URL-encoded form under the allowlist; its names are flat.
    let form = fields.is_some() && inputs.last().is_some_and(|a| crate::fields::is_form(&a.ty));
    if form && nested {
        cx.error_spanned_by(
            value_tokens(&get(FIELDS).unwrap().value),
            "a URL-encoded form (`Form<T>`) has flat names: list them without `.` or `[]`, \
             or take the body as `Json<T>`",
        );
    }
    if raw_body {
        let raw_arg = inputs.last().filter(|a| {
            last_segment(&a.ty).is_some_and(|id| RAW_BODY_EXTRACTORS.iter().any(|b| id == b))
        });
        if let Some(arg) = get(FIELDS) {
            cx.error_spanned_by(
                &arg.key,
                "`fields` and `body = \"raw\"` exclude each other: `fields` allowlists a JSON body, \
                 `body = \"raw\"` hands it over unparsed",
            );
        } else if raw_arg.is_none() {
            cx.error_spanned_by(
                &get(BODY).unwrap().key,
                format!(
                    "`body = \"raw\"` needs the handler `{name}` to take the body as its last \
                     argument, as `Bytes` or `String`"
                ),
            );
        }
    }
    // `graphql = LIMITS`: the body is a GraphQL request or batch, taken by the last argument
    // (`GraphQlRequest`), under the limits of the `GraphQlLimits` constant it names.
    let graphql = get(GRAPHQL).and_then(|arg| match &arg.value {
        RawValue::Path(p) => Some(p.clone()),
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`graphql` takes a `GraphQlLimits` constant, e.g. `graphql = GRAPHQL_LIMITS`",
            );
            None
        }
    });
    // A malformed value has its own error, which names the fix.
    if let (Some(arg), Some(_)) = (get(GRAPHQL), &graphql) {
        if let Some(f) = get(FIELDS) {
            cx.error_spanned_by(
                &f.key,
                "`fields` and `graphql` exclude each other: a GraphQL body's fields are fixed \
                 (`query`, `operationName`, `variables`, `extensions`)",
            );
        } else if raw_body {
            cx.error_spanned_by(
                &arg.key,
                "`graphql` and `body = \"raw\"` exclude each other: a GraphQL body is parsed and \
                 checked against its limits",
            );
        } else if body_arg.is_none() {
            cx.error_spanned_by(
                &arg.key,
                format!(
                    "`graphql` needs the handler `{name}` to take the request as its last \
                     argument: `request: GraphQlRequest`"
                ),
            );
        }
    }
    match (&fields, body_arg) {
        // A malformed `body` value has its own error, which names the fix; a GraphQL body is
        // declared by `graphql`.
        (None, Some(_)) if raw_body || get(BODY).is_some() || get(GRAPHQL).is_some() => {}
        // An upload has its own errors (`multipart` below).
        (None, Some(i)) if get(MULTIPART).is_some() || crate::multipart::is_multipart_type(&inputs[i].ty) => {}
        (None, Some(i)) => cx.error_spanned_by(
            &inputs[i].ty,
            format!(
                "endpoint `{name}` reads a request body but declares no `fields`; add \
                 `fields = [\"...\"]` listing the fields callers may send (mass-assignment guard)"
            ),
        ),
        (Some(_), None) => cx.error_spanned_by(
            &get(FIELDS).unwrap().key,
            format!("`fields` declared but endpoint `{name}` reads no body; remove `fields` or add a `Json<T>` argument"),
        ),
        _ => {}
    }

    // ---- the body limit ----------------------------------------------------------------------------
    let body_limit = get(BODY_LIMIT).and_then(|arg| match &arg.value {
        RawValue::Str(s) => match parse_body_limit(&s.value()) {
            Ok(bytes) => Some(BodyLimit {
                bytes,
                text: s.value(),
            }),
            Err(err) => {
                cx.error_spanned_by(s, err.message(&s.value()));
                None
            }
        },
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`body_limit` takes a string such as \"100kb\"",
            );
            None
        }
    });
    // A handler that reads a body without `fields` already has its error, which says to add
    // `fields`; that also settles `body_limit`.
    if let (Some(arg), None, None, None, false, false) = (
        get(BODY_LIMIT),
        get(FIELDS),
        get(GRAPHQL),
        body_arg,
        raw_body,
        body_ignored,
    ) {
        cx.error_spanned_by(
            &arg.key,
            format!(
                "`body_limit` needs `fields`: endpoint `{name}` takes no body, so there is no body \
                 to limit; remove `body_limit`, or declare the body with `fields = [\"...\"]` and \
                 a `Json<T>` argument"
            ),
        );
    }

    // ---- multipart: an upload's declared parts -----------------------------------------------------
    let multipart = get(MULTIPART).and_then(|arg| crate::multipart::parts(&cx, arg));
    crate::multipart::check_multipart(
        &cx,
        &name,
        &get,
        body_arg.map(|i| &*inputs[i].ty),
        multipart.as_deref(),
        body_limit.as_ref(),
    );
    // Without `body_limit`, an upload's total is its parts' `max` plus their framing.
    let body_limit = match (body_limit, &multipart) {
        (None, Some(parts)) if !parts.is_empty() => {
            let bytes = crate::multipart::default_total(parts);
            Some(BodyLimit {
                bytes,
                text: format!(
                    "{}b (the parts' `max` plus {}b each for boundaries and headers)",
                    bytes,
                    crate::multipart::FRAMING_PER_PART
                ),
            })
        }
        (limit, _) => limit,
    };

    // ---- lifecycle: deprecated, sunset, successor ---------------------------------------------------
    let date = |key: &str| {
        get(key).and_then(|arg| match &arg.value {
            RawValue::Str(s) => match parse_date(&s.value()) {
                Ok(date) => Some((date, s)),
                Err(err) => {
                    cx.error_spanned_by(s, err.message(key, &s.value()));
                    None
                }
            },
            other => {
                cx.error_spanned_by(
                    value_tokens(other),
                    format!("`{key}` takes a date string `YYYY-MM-DD`, such as \"2026-06-30\""),
                );
                None
            }
        })
    };
    let deprecated = date(DEPRECATED);
    let sunset = date(SUNSET);
    if let (Some((deprecated, _)), Some((sunset, lit))) = (deprecated, sunset) {
        if sunset < deprecated {
            cx.error_spanned_by(
                lit,
                format!(
                    "`sunset` ({sunset}) is before `deprecated` ({deprecated}); an endpoint is \
                     deprecated first and removed later: set `sunset` to {deprecated} or after"
                ),
            );
        }
    }
    let successor = get(SUCCESSOR).and_then(|arg| match &arg.value {
        RawValue::Str(s) => match check_successor(&s.value()) {
            Ok(()) => Some(s.clone()),
            Err(why) => {
                cx.error_spanned_by(s, why);
                None
            }
        },
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`successor` takes a string such as \"/api/v2/users/{user_id}\"",
            );
            None
        }
    });
    if let (Some(arg), None, None) = (get(SUCCESSOR), get(DEPRECATED), get(SUNSET)) {
        cx.error_spanned_by(
            &arg.key,
            "`successor` needs `deprecated` or `sunset`: the successor-version link is sent only \
             for an endpoint that is being retired; add `deprecated = \"YYYY-MM-DD\"` or remove \
             `successor`",
        );
    }

    // ---- owner against the signature ---------------------------------------------------------------
    if let (Some(param), None, false) = (&owner_param, get(LOADER), public) {
        let bound = path_bindings(&inputs);
        if !bound.iter().any(|id| *id == param.value()) {
            let hint =
                if bound.is_empty() {
                    format!("bind it with `Path({}): Path<...>`", param.value())
                } else {
                    format!(
                    "the handler binds {}; bind it with `Path({}): Path<...>` or use a `loader`",
                    bound.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", "),
                    param.value()
                )
                };
            cx.error_spanned_by(
                param,
                format!(
                    "`owner = \"{}\"` names a path parameter that endpoint `{name}` does not have; {hint}",
                    param.value()
                ),
            );
        }
    }
    // ---- how the handler binds the owner, as axum fills it -------------------------------------
    let mut owner_bind = None;
    if let (Some(param), false) = (&owner_param, public) {
        match owner_binding(&inputs, &param.value()) {
            Ok(bind) => owner_bind = bind,
            Err(err) => cx.push(err),
        }
    }
    // `Owned<T>` is what a `loader = T` hands over; without it every request would fail.
    for arg in &inputs {
        let Some(owned) = generic_of(&arg.ty, "Owned") else {
            continue;
        };
        match (get(LOADER), &loader) {
            (None, _) => cx.error_spanned_by(
                &arg.ty,
                "`Owned<...>` is handed over by a loader; add `owner = \"<path param>\", loader = <type>`",
            ),
            (Some(_), Some(loader)) if last_ident(loader) != last_segment(owned) => cx.error_spanned_by(
                &arg.ty,
                format!(
                    "this `Owned<...>` does not match `loader = {}`; the handler receives the loaded type",
                    loader.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
                ),
            ),
            _ => {}
        }
    }

    if optional {
        for arg in &inputs {
            if last_segment(&arg.ty).is_some_and(|id| id == "Principal") {
                cx.error_spanned_by(
                    &arg.ty,
                    "with optional authentication (`auth = optional(...)`) the caller may be \
                     anonymous; take `Option<Principal>`, or require authentication",
                );
            }
        }
    }
    if public {
        for arg in &inputs {
            if last_segment(&arg.ty).is_some_and(|id| id == "Principal") {
                cx.error_spanned_by(
                    &arg.ty,
                    "a public endpoint (`auth = \"none\"`) has no `Principal`; use `Option<Principal>` or require authentication",
                );
            }
        }
    }

    // ---- the response: every `Json<T>` is an object checked by `SafeResponse` ------------------
    let mut responses = Vec::new();
    if let syn::ReturnType::Type(_, ty) = &func.sig.output {
        let mut payloads = Vec::new();
        exposure::json_payloads(ty, &mut payloads);
        for payload in payloads {
            match exposure::top_level_array(payload) {
                Some(TopLevelArray::Sequence(item)) => cx.error_spanned_by(
                    payload,
                    format!(
                        "endpoint `{name}` answers with a top-level JSON array, which is refused \
                         (JSON hijacking, and no room to add paging later); return \
                         `Json<secure_endpoint::List<{}>>` instead, built with \
                         `Json(List::new(items))`: it serializes as `{{\"data\": [...], \"count\": n}}`",
                        exposure::type_text(item)
                    ),
                ),
                Some(TopLevelArray::Tuple) => cx.error_spanned_by(
                    payload,
                    format!(
                        "endpoint `{name}` answers with a tuple, which serializes as a top-level \
                         JSON array and is refused; return a struct deriving `Serialize` and \
                         `SafeResponse` instead"
                    ),
                ),
                None if exposure::contains_impl_trait(payload) => cx.error_spanned_by(
                    payload,
                    format!(
                        "endpoint `{name}` answers with `Json<impl ...>`, which cannot be checked \
                         for data exposure; name a type deriving `Serialize` and `SafeResponse`"
                    ),
                ),
                None => responses.push(payload.clone()),
            }
        }
    }

    // ---- waivers and the organisation's policy ----------------------------------------------------
    let waivers: Vec<LitStr> = get(WAIVE)
        .map(|arg| {
            let list = string_list(&cx, arg, "rule");
            for (i, rule) in list.iter().enumerate() {
                if !policy_file::RULES.contains(&rule.value().as_str()) {
                    cx.error_spanned_by(
                        rule,
                        unknown(&rule.value(), "policy rule", policy_file::RULES),
                    );
                } else if list[..i].iter().any(|r| r.value() == rule.value()) {
                    cx.error_spanned_by(rule, format!("rule `{}` is waived twice", rule.value()));
                }
            }
            list
        })
        .unwrap_or_default();
    let reason = get(REASON).and_then(|arg| match &arg.value {
        RawValue::Str(s) if !s.value().trim().is_empty() => Some(s.clone()),
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                "`reason` is empty; say why this endpoint is an exception, for reviewers and the \
                 inventory",
            );
            None
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`reason` takes a string such as \"status page, polled by the load balancer\"",
            );
            None
        }
    });
    if let (Some(arg), None) = (get(WAIVE), get(REASON)) {
        cx.error_spanned_by(
            &arg.key,
            "a waiver needs a `reason`: add `reason = \"...\"` saying why this endpoint is an \
             exception to the policy",
        );
    }
    if let (Some(arg), None, Some(Auth::Schemes(_) | Auth::Optional(_))) =
        (get(REASON), get(WAIVE), &auth)
    {
        cx.error_spanned_by(
            &arg.key,
            format!(
                "`reason` explains a waiver or a public endpoint, and endpoint `{name}` has \
                 neither; add `waive = [\"<rule>\"]` or remove `reason`"
            ),
        );
    }
    let flow = get(FLOW).and_then(|arg| flow_value(&cx, arg));
    if let Some(policy) = policy {
        check_policy(
            &cx,
            policy,
            &PolicyInput {
                name: &name,
                auth: auth.as_ref(),
                get: &get,
                rate: rate.as_ref(),
                body_limit: body_limit.as_ref(),
                inputs: &inputs,
                waivers: &waivers,
            },
        );
    }

    cx.check()?;
    Ok(Endpoint {
        func,
        auth: auth.expect("checked above"),
        any_authenticated,
        roles,
        scopes,
        owner: owner_param.map(|param| Owner {
            param,
            loader,
            binding: owner_bind,
            status: owner_status,
        }),
        rate,
        fields,
        body_limit,
        raw_body,
        graphql,
        multipart,
        lifecycle: Lifecycle {
            deprecated: deprecated.map(|(date, _)| date),
            sunset: sunset.map(|(date, _)| date),
            successor,
        },
        body_arg,
        responses,
        waivers,
        reason,
        flow,
        body: crate::model::BodyDecl {
            form,
            nested,
            ignored: body_ignored,
        },
    })
}

/// `flow = "login"`: an identifier naming the business flow (the router's budgets are keyed
/// by it, and it shows in the inventory and in metrics), so `"password reset"` or `"login!"`
/// is refused.
fn flow_value(cx: &Ctxt, arg: &RawArg) -> Option<LitStr> {
    match &arg.value {
        RawValue::Str(s) if is_ident(&s.value()) && s.value().is_ascii() => Some(s.clone()),
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                format!(
                    "`flow` names a business flow with an identifier such as \"login\" or \
                     \"password_reset\" (ASCII letters, digits and `_`, not starting with a \
                     digit); {:?} is not one",
                    s.value()
                ),
            );
            None
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`flow` takes a string naming the business flow: `flow = \"login\"`",
            );
            None
        }
    }
}

/// What the policy rules look at.
struct PolicyInput<'a, 'r> {
    name: &'a Ident,
    auth: Option<&'a Auth>,
    get: &'a dyn Fn(&str) -> Option<&'r RawArg>,
    rate: Option<&'a Rate>,
    body_limit: Option<&'a BodyLimit>,
    inputs: &'a [&'a syn::PatType],
    waivers: &'a [LitStr],
}

/// The rules of the organisation's policy file; each violation is an error at the offending
/// token (or the fn name when a key is missing) naming the rule, the file and the fix.
fn check_policy(cx: &Ctxt, policy: &PolicyFile, ep: &PolicyInput<'_, '_>) {
    use policy_file::{
        ALLOWED_SCHEMES, API_KEY_REQUIRES_SCOPES, MAX_BODY_LIMIT as MAX_BODY, MAX_RATE, PUBLIC,
        REQUIRE_OWNER_FOR_IDS, REQUIRE_RATE,
    };
    let rules = &policy.rules;
    let file = policy.display();
    let name = ep.name;
    let get = ep.get;
    let waived = |rule: &str| ep.waivers.iter().any(|w| w.value() == rule);
    let rule = |rule: &str| format!("the policy rule `{rule}` (in {file})");
    let waive = |rule: &str| format!("or waive it: `waive = [\"{rule}\"], reason = \"...\"`");
    let public = matches!(ep.auth, Some(Auth::None));

    if rules.require_rate && get(RATE).is_none() && !waived(REQUIRE_RATE) {
        cx.error_spanned_by(
            name,
            format!(
                "endpoint `{name}` has no `rate`, which {} requires; add `rate = \"100/1m\"`, {}",
                rule(REQUIRE_RATE),
                waive(REQUIRE_RATE)
            ),
        );
    }

    if let (true, Some(auth_arg), false) = (public, get(AUTH), waived(PUBLIC)) {
        let at = value_tokens(&auth_arg.value);
        if let Some(allow) = &rules.public_allow {
            if !allow.iter().any(|a| name == a) {
                let listed = if allow.is_empty() {
                    "no endpoint".to_owned()
                } else {
                    format!(
                        "only {}",
                        allow
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                cx.error_spanned_by(
                    at.clone(),
                    format!(
                        "endpoint `{name}` is public (`auth = \"none\"`), but {} lets {listed} be \
                         public; require authentication (`auth = \"jwt\"`), add `{name}` to \
                         `public.allow` in that file, {}",
                        rule(PUBLIC),
                        waive(PUBLIC)
                    ),
                );
            }
        }
        if rules.public_require_reason && get(REASON).is_none() {
            cx.error_spanned_by(
                at,
                format!(
                    "endpoint `{name}` is public (`auth = \"none\"`) without a `reason`, which {} \
                     requires; add `reason = \"...\"` saying why anyone may call it, or require \
                     authentication (`auth = \"jwt\"`)",
                    rule(PUBLIC)
                ),
            );
        }
    }

    if let (Some((max, max_count, max_period)), Some(rate), false) =
        (&rules.max_rate, ep.rate, waived(MAX_RATE))
    {
        // count / period > max_count / max_period, without division.
        if u128::from(rate.count) * u128::from(*max_period)
            > u128::from(*max_count) * u128::from(rate.period_secs)
        {
            let per_sec = |count: u32, period: u64| f64::from(count) / period as f64;
            cx.error_spanned_by(
                value_tokens(&get(RATE).expect("a rate was checked").value),
                format!(
                    "rate `{}` of endpoint `{name}` ({:.2} requests/s) is above `{max}` ({:.2}/s), \
                     the most {} allows; lower it, {}",
                    rate.text,
                    per_sec(rate.count, rate.period_secs),
                    per_sec(*max_count, *max_period),
                    rule(MAX_RATE),
                    waive(MAX_RATE)
                ),
            );
        }
    }

    if rules.require_owner_for_ids
        && matches!(ep.auth, Some(Auth::Schemes(_)))
        && get(OWNER).is_none()
        && !waived(REQUIRE_OWNER_FOR_IDS)
    {
        let ids: Vec<Ident> = path_binding_idents(ep.inputs)
            .into_iter()
            .filter(|id| {
                let id = id.to_string();
                id == "id" || id.ends_with("_id")
            })
            .collect();
        if let Some(first) = ids.first() {
            cx.error_spanned_by(
                first,
                format!(
                    "endpoint `{name}` binds the id-like path parameter `{first}` but declares no \
                     `owner`, which {} requires; add `owner = \"{first}\"` so only its owner gets \
                     the resource (with `loader = <type>` when the id names a resource, not a \
                     user), {}",
                    rule(REQUIRE_OWNER_FOR_IDS),
                    waive(REQUIRE_OWNER_FOR_IDS)
                ),
            );
        }
    }

    if let (Some(allowed), Some(auth_arg), false) =
        (&rules.allowed_schemes, get(AUTH), waived(ALLOWED_SCHEMES))
    {
        let named: Vec<&LitStr> = match &auth_arg.value {
            RawValue::Str(s) => vec![s],
            RawValue::List { items, .. } => items.iter().collect(),
            RawValue::Other(syn::Expr::Call(call)) => call
                .args
                .iter()
                .filter_map(|arg| match arg {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for scheme in named {
            let value = scheme.value();
            if value != "none" && !allowed.contains(&value) {
                cx.error_spanned_by(
                    scheme,
                    format!(
                        "auth scheme `{value}` of endpoint `{name}` is not allowed by {}, which \
                         allows {}; use one of those, {}",
                        rule(ALLOWED_SCHEMES),
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed
                                .iter()
                                .map(|a| format!("`{a}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                        waive(ALLOWED_SCHEMES)
                    ),
                );
            }
        }
    }

    if let (true, Some(Auth::Schemes(schemes) | Auth::Optional(schemes)), None, false) = (
        rules.api_key_requires_scopes,
        ep.auth,
        get(SCOPES),
        waived(API_KEY_REQUIRES_SCOPES),
    ) {
        if schemes.contains(&Scheme::ApiKey) {
            cx.error_spanned_by(
                name,
                format!(
                    "endpoint `{name}` accepts `api_key` but declares no `scopes`, which {} \
                     requires; add `scopes = [\"...\"]` naming what a key needs for it (instead of \
                     `allow = \"authenticated\"`), {}",
                    rule(API_KEY_REQUIRES_SCOPES),
                    waive(API_KEY_REQUIRES_SCOPES)
                ),
            );
        }
    }

    if let (Some((max, max_bytes)), Some(limit), false) =
        (&rules.max_body_limit, ep.body_limit, waived(MAX_BODY))
    {
        if limit.bytes > *max_bytes {
            cx.error_spanned_by(
                value_tokens(
                    &get(BODY_LIMIT)
                        .or(get(MULTIPART))
                        .expect("a body limit was checked")
                        .value,
                ),
                format!(
                    "body limit `{}` of endpoint `{name}` is above `{max}`, the most {} allows; \
                     lower it, {}",
                    limit.text,
                    rule(MAX_BODY),
                    waive(MAX_BODY)
                ),
            );
        }
    }
}

fn auth_value(cx: &Ctxt, arg: &RawArg) -> Option<Auth> {
    let scheme = |s: &LitStr| -> Option<Option<Scheme>> {
        match s.value().as_str() {
            "jwt" => Some(Some(Scheme::Jwt)),
            "api_key" => Some(Some(Scheme::ApiKey)),
            "hmac" => Some(Some(Scheme::Hmac)),
            "signature" => Some(Some(Scheme::Signature)),
            "github_webhook" => Some(Some(Scheme::GithubWebhook)),
            "stripe_webhook" => Some(Some(Scheme::StripeWebhook)),
            "standard_webhook" => Some(Some(Scheme::StandardWebhook)),
            "dpop" => Some(Some(Scheme::Dpop)),
            "mtls" => Some(Some(Scheme::Mtls)),
            "none" => Some(None),
            // `jwt+dpop`, `DPoP`, `bearer_dpop`...: say how the two forms are written.
            other if other.to_ascii_lowercase().contains("dpop") => {
                cx.error_spanned_by(
                    s,
                    format!(
                        "unknown auth scheme `{other}`; a DPoP-bound token (RFC 9449) is \
                         `auth = \"dpop\"`, and `auth = [\"jwt\", \"dpop\"]` accepts plain \
                         bearer tokens too"
                    ),
                );
                None
            }
            other => {
                let message = match other.strip_suffix('?') {
                    Some(base) if AUTH_SCHEMES.contains(&base) && base != "none" => format!(
                        "unknown auth scheme `{other}`; for optional authentication write \
                         `auth = {OPTIONAL}(\"{base}\")`"
                    ),
                    _ => unknown(other, "auth scheme", AUTH_SCHEMES),
                };
                cx.error_spanned_by(s, message);
                None
            }
        }
    };
    match &arg.value {
        RawValue::Str(s) => match scheme(s)? {
            None => Some(Auth::None),
            Some(sch) => Some(Auth::Schemes(vec![sch])),
        },
        RawValue::List { items, bad, span } => {
            for b in bad {
                cx.error_spanned_by(b, "expected a string such as \"jwt\"");
            }
            if items.is_empty() && bad.is_empty() {
                cx.error_at(
                    *span,
                    "`auth` lists no scheme; add one such as \"jwt\", or write `auth = \"none\"`",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = bad.is_empty();
            for item in items {
                match scheme(item) {
                    Some(Some(sch)) if out.contains(&sch) => {
                        cx.error_spanned_by(
                            item,
                            format!("auth scheme `{}` is listed twice", item.value()),
                        );
                        ok = false;
                    }
                    Some(Some(sch)) => out.push(sch),
                    Some(None) => {
                        cx.error_spanned_by(
                            item,
                            "`none` cannot be combined with other schemes; write `auth = \"none\"` alone",
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            ok.then_some(Auth::Schemes(out))
        }
        RawValue::Other(syn::Expr::Call(call)) if matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident(OPTIONAL)) =>
        {
            if call.args.is_empty() {
                cx.error_spanned_by(
                    call,
                    "`optional()` names no scheme; write `auth = optional(\"jwt\")`",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for arg in &call.args {
                match arg {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => match scheme(s) {
                        Some(Some(sch)) if out.contains(&sch) => {
                            cx.error_spanned_by(
                                s,
                                format!("auth scheme `{}` is listed twice", s.value()),
                            );
                            ok = false;
                        }
                        Some(Some(sch)) => out.push(sch),
                        Some(None) => {
                            cx.error_spanned_by(
                                s,
                                "`none` cannot be optional: `auth = \"none\"` alone makes the \
                                 endpoint public; `optional(...)` names the schemes whose \
                                 credentials are read when presented, e.g. `optional(\"jwt\")`",
                            );
                            ok = false;
                        }
                        None => ok = false,
                    },
                    other => {
                        cx.error_spanned_by(
                            other,
                            "`optional(...)` takes scheme names as strings: \
                             `auth = optional(\"jwt\", \"api_key\")`",
                        );
                        ok = false;
                    }
                }
            }
            ok.then_some(Auth::Optional(out))
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`auth` takes a string such as \"jwt\", a list such as [\"jwt\", \"api_key\"], \
                 or `optional(\"jwt\")` for optional authentication",
            );
            None
        }
    }
}

/// `owner_status = 403`: the status for another principal's resource, 403 or 404.
fn owner_status_value(cx: &Ctxt, arg: &RawArg) -> Option<u16> {
    match &arg.value {
        RawValue::Other(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        })) => match int.base10_parse::<u16>() {
            Ok(status @ (403 | 404)) if int.suffix().is_empty() => Some(status),
            _ => {
                cx.error_spanned_by(
                    int,
                    "`owner_status` is 404 (the default: another's resource looks like none at \
                     all) or 403 (where a published API specifies it)",
                );
                None
            }
        },
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                format!(
                    "`owner_status` takes a number, not a string: `owner_status = {}`",
                    s.value().trim()
                ),
            );
            None
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                "`owner_status` takes 403 or 404: `owner_status = 403`",
            );
            None
        }
    }
}

fn string_list(cx: &Ctxt, arg: &RawArg, what: &str) -> Vec<LitStr> {
    let key = arg.key.to_string();
    match &arg.value {
        RawValue::List { items, bad, span } => {
            for b in bad {
                cx.error_spanned_by(b, format!("expected a {what} name as a string literal"));
            }
            if items.is_empty() && bad.is_empty() && key != FIELDS {
                cx.error_at(*span, format!("`{key}` is empty; list at least one {what}"));
            }
            // Field names are checked with the allowlist (empty, duplicate); roles and scopes
            // are single tokens.
            if key != FIELDS {
                for item in items {
                    if item.value().is_empty() || item.value().chars().any(char::is_whitespace) {
                        cx.error_spanned_by(
                            item,
                            format!("a {what} cannot be empty or contain spaces"),
                        );
                    }
                }
            }
            items.clone()
        }
        RawValue::Str(s) => {
            cx.error_spanned_by(
                s,
                format!("`{key}` takes a list: `{key} = [\"{}\"]`", s.value()),
            );
            Vec::new()
        }
        other => {
            cx.error_spanned_by(
                value_tokens(other),
                format!("`{key}` takes a list of strings"),
            );
            Vec::new()
        }
    }
}

pub(crate) fn value_tokens(value: &RawValue) -> proc_macro2::TokenStream {
    match value {
        RawValue::Str(s) => s.to_token_stream(),
        RawValue::List { span, .. } => {
            let span = *span;
            quote::quote_spanned!(span=> [])
        }
        RawValue::Path(p) => p.to_token_stream(),
        RawValue::Other(e) => e.to_token_stream(),
    }
}

/// "unknown key `atuh`; did you mean `auth`?" (or the list of what is accepted).
pub(crate) fn unknown(got: &str, what: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (edit_distance(got, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, k)) => format!("unknown {what} `{got}`; did you mean `{k}`?"),
        None => format!(
            "unknown {what} `{got}`; expected one of {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Levenshtein distance on chars (inputs are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `"100/15m"` → (100, 900). Units: s, m, h, d, with an optional multiplier.
pub(crate) fn parse_rate(text: &str) -> Result<(u32, u64), &'static str> {
    let (count, period) = text.split_once('/').ok_or("missing `/`")?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| "the count is not a whole number")?;
    if count == 0 {
        return Err("the count must be at least 1");
    }
    let period = period.trim();
    let unit_at = period
        .find(|c: char| !c.is_ascii_digit())
        .ok_or("the period has no unit (s, m, h or d)")?;
    let (n, unit) = period.split_at(unit_at);
    let n: u64 = if n.is_empty() {
        1
    } else {
        n.parse().map_err(|_| "the period is not a whole number")?
    };
    if n == 0 {
        return Err("the period must be at least 1");
    }
    let unit_secs = match unit {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("the unit must be s, m, h or d"),
    };
    let secs = n.checked_mul(unit_secs).ok_or("the period is too long")?;
    if secs > 366 * 86_400 {
        return Err("the period is longer than a year");
    }
    Ok((count, secs))
}

/// The largest `body_limit`: 1 GiB.
const MAX_BODY_LIMIT: u64 = 1024 * 1024 * 1024;

/// Why a `body_limit` value is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyLimitError {
    Malformed(&'static str),
    Zero,
    TooLarge,
}

impl BodyLimitError {
    pub(crate) fn message(&self, text: &str) -> String {
        match self {
            BodyLimitError::Malformed(why) => format!(
                "malformed body limit `{}`: {why}; write `<number><unit>` such as \"100kb\", \
                 \"2mb\" or \"512b\" (units b, kb = 1024 b, mb = 1024 kb)",
                text.escape_debug()
            ),
            BodyLimitError::Zero => format!(
                "body limit `{text}` admits no body at all; write at least \"1b\", or remove \
                 `fields` and `body_limit` if the endpoint takes no body"
            ),
            BodyLimitError::TooLarge => format!(
                "body limit `{text}` is more than 1 GiB, the largest body the endpoint may \
                 buffer; write at most \"1024mb\""
            ),
        }
    }
}

/// `"100kb"` → 102 400. Units `b`, `kb`, `mb` (any case, binary multiples); 1 byte to 1 GiB.
pub(crate) fn parse_body_limit(text: &str) -> Result<usize, BodyLimitError> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    if number.is_empty() {
        return Err(BodyLimitError::Malformed(
            "it does not start with a whole number",
        ));
    }
    let unit_bytes: u64 = match unit.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1024,
        "mb" => 1024 * 1024,
        "" => return Err(BodyLimitError::Malformed("the unit is missing")),
        u if matches!(u.trim(), "b" | "kb" | "mb") => {
            return Err(BodyLimitError::Malformed(
                "there is a space between the number and the unit",
            ))
        }
        u if u.starts_with(['.', ',']) => {
            return Err(BodyLimitError::Malformed(
                "the number must be whole (\"1536kb\", not \"1.5mb\")",
            ))
        }
        _ => return Err(BodyLimitError::Malformed("the unit must be b, kb or mb")),
    };
    // Only digits, so a failed parse is an overflow.
    let number: u64 = number.parse().map_err(|_| BodyLimitError::TooLarge)?;
    let bytes = number
        .checked_mul(unit_bytes)
        .ok_or(BodyLimitError::TooLarge)?;
    if bytes == 0 {
        return Err(BodyLimitError::Zero);
    }
    if bytes > MAX_BODY_LIMIT {
        return Err(BodyLimitError::TooLarge);
    }
    usize::try_from(bytes).map_err(|_| BodyLimitError::TooLarge)
}

/// Why a `deprecated` or `sunset` value is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DateError {
    /// Not `YYYY-MM-DD`.
    Malformed,
    /// A year before 1970 or after 9999.
    OutOfRange,
    /// The right shape, but no such day: the reason.
    NoSuchDate(String),
}

impl DateError {
    fn message(&self, key: &str, text: &str) -> String {
        match self {
            DateError::Malformed => format!(
                "malformed `{key}` date `{}`: write `YYYY-MM-DD`, such as \"2026-06-30\"",
                text.escape_debug()
            ),
            DateError::OutOfRange => {
                format!("`{key}` date `{text}` is out of range: the year must be 1970 to 9999")
            }
            DateError::NoSuchDate(why) => {
                format!("`{key}` date `{text}` is not a calendar date: {why}")
            }
        }
    }
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `"2026-06-30"` → the date and its Unix time. A real calendar date, year 1970 to 9999.
pub(crate) fn parse_date(text: &str) -> Result<Date, DateError> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateError::Malformed);
    }
    let number = |digits: &[u8]| -> Result<u16, DateError> {
        digits.iter().try_fold(0u16, |n, d| {
            if d.is_ascii_digit() {
                Ok(n * 10 + u16::from(d - b'0'))
            } else {
                Err(DateError::Malformed)
            }
        })
    };
    let year = number(&b[0..4])?;
    let month = number(&b[5..7])?;
    let day = number(&b[8..10])?;
    if !(1970..=9999).contains(&year) {
        return Err(DateError::OutOfRange);
    }
    if !(1..=12).contains(&month) {
        return Err(DateError::NoSuchDate(format!(
            "there is no month {month:02}; months are 01 to 12"
        )));
    }
    let month = month as u8;
    let last_day = days_in_month(year, month);
    if day == 0 || day > u16::from(last_day) {
        let name = MONTH_NAMES[usize::from(month - 1)];
        let why = if day == 0 {
            "days start at 01".to_owned()
        } else if month == 2 {
            format!("{name} {year} has {last_day} days")
        } else {
            format!("{name} has {last_day} days")
        };
        return Err(DateError::NoSuchDate(why));
    }
    let day = day as u8;
    Ok(Date {
        year,
        month,
        day,
        unix: days_from_civil(year, month, day) * 86_400,
    })
}

fn is_leap_year(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`). The runtime has the
/// same function; this crate cannot depend on it.
fn days_from_civil(year: u16, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A `successor` is sent as `Link: <successor>; rel="successor-version"`: a path on this
/// server or an `https://` URL, made only of characters a URL and that header can carry.
pub(crate) fn check_successor(text: &str) -> Result<(), String> {
    const EXAMPLE: &str =
        "such as \"/api/v2/users/{user_id}\" or \"https://api.example.com/v2/users\"";
    if text.is_empty() {
        return Err(format!(
            "`successor` is empty; write the successor version's URL, {EXAMPLE}"
        ));
    }
    if let Some(c) = text.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || !c.is_ascii()
            || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '|')
    }) {
        let what = match c {
            ' ' => "a space".to_owned(),
            c if !c.is_ascii() => format!("the non-ASCII character `{}`", c.escape_debug()),
            c if c.is_ascii_control() => {
                format!("the control character `{}`", c.escape_default())
            }
            c => format!("`{c}`"),
        };
        let encoding = c
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>();
        return Err(format!(
            "`successor` contains {what}, which cannot go into the `Link: <...>` header; \
             percent-encode it as `{encoding}`"
        ));
    }
    if let Some(rest) = text.strip_prefix("https://") {
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!(
                "`successor` names no host after `https://`; write the successor version's URL, \
                 {EXAMPLE}"
            ));
        }
        return Ok(());
    }
    if text.starts_with("//") {
        return Err(
            "`successor` starts with `//`, which names another host, not a path; write \
             `https://` before the host, or start the path with a single `/`"
                .to_owned(),
        );
    }
    if text.starts_with('/') {
        return Ok(());
    }
    if text.starts_with("http://") {
        return Err(
            "`successor` is not HTTPS; write `https://`, or a path on this server starting with `/`"
                .to_owned(),
        );
    }
    Err(format!(
        "`successor` must be a path starting with `/` or an `https://` URL; write the successor \
         version's URL, {EXAMPLE}"
    ))
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The last path segment of a type, seen through references and `Option<...>` is not unwrapped.
pub(crate) fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| &s.ident),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

/// Extractors known to read only the request head (never the body).
const PARTS_EXTRACTORS: &[&str] = &[
    "State",
    "Path",
    "Query",
    "HeaderMap",
    "Principal",
    "Owned",
    "Extension",
    "ConnectInfo",
    "Method",
    "Uri",
    "Version",
    "MatchedPath",
    "OriginalUri",
    "RequestId",
    "TypedHeader",
    "RawPathParams",
    "RawQuery",
    "Option",
];

fn is_parts_type(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|id| PARTS_EXTRACTORS.iter().any(|p| id == p))
}

fn last_ident(path: &syn::Path) -> Option<&Ident> {
    path.segments.last().map(|s| &s.ident)
}

/// `T` in `Wrapper<T>` when the type's last segment is `wrapper`.
fn generic_of<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| {
        if let syn::GenericArgument::Type(t) = a {
            Some(t)
        } else {
            None
        }
    })
}

fn is_body_type(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|id| BODY_EXTRACTORS.iter().any(|b| id == b))
}

/// Identifiers bound by `Path(x)` or `Path((a, b))` patterns.
fn path_bindings(inputs: &[&syn::PatType]) -> Vec<String> {
    path_binding_idents(inputs)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// [`path_bindings`], with their spans.
fn path_binding_idents(inputs: &[&syn::PatType]) -> Vec<Ident> {
    let mut out = Vec::new();
    for arg in inputs {
        let Pat::TupleStruct(ts) = &*arg.pat else {
            continue;
        };
        if ts.path.segments.last().is_none_or(|s| s.ident != "Path") {
            continue;
        }
        for elem in &ts.elems {
            collect_idents(elem, &mut out);
        }
    }
    out
}

/// How the handler's `Path` patterns bind `owner`: as the whole value, by position in a tuple,
/// or as a struct field. `None` when no `Path` binds it; an error when it is bound in a way
/// that cannot be mapped to one route parameter.
fn owner_binding(inputs: &[&syn::PatType], owner: &str) -> syn::Result<Option<OwnerBind>> {
    let nested = |span: proc_macro2::Span| {
        syn::Error::new(
            span,
            format!(
                "`owner = \"{owner}\"` is bound inside a pattern the owner check cannot map to one \
                 route parameter; bind it directly: `Path({owner})`, an element of \
                 `Path((org_id, {owner}))` or a field of `Path(Params {{ {owner}, .. }})`"
            ),
        )
    };
    let is_owner = |pat: &Pat| matches!(unparen(pat), Pat::Ident(id) if id.ident == owner && id.subpat.is_none());
    let mut found: Option<OwnerBind> = None;
    for (arg, input) in inputs.iter().enumerate() {
        let Pat::TupleStruct(ts) = &*input.pat else {
            continue;
        };
        if ts.path.segments.last().is_none_or(|s| s.ident != "Path") {
            continue;
        }
        let mut idents = Vec::new();
        ts.elems.iter().for_each(|e| collect_idents(e, &mut idents));
        let Some(ident) = idents.iter().find(|i| *i == owner) else {
            continue;
        };
        if found.is_some() {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "`{owner}` is bound by two `Path` extractors; bind the owner parameter once"
                ),
            ));
        }
        let [elem] = ts.elems.iter().collect::<Vec<_>>()[..] else {
            return Err(nested(ident.span()));
        };
        let positional = |elems: &syn::punctuated::Punctuated<Pat, syn::Token![,]>| {
            if elems.iter().any(|e| matches!(e, Pat::Rest(_))) {
                return Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "`..` hides the position of `{owner}`, and axum fills a `Path` tuple by \
                         position: write every element of the tuple, `_` for those the handler \
                         ignores"
                    ),
                ));
            }
            match elems.iter().position(is_owner) {
                Some(index) => Ok((
                    BindKind::Position {
                        index,
                        arity: elems.len(),
                    },
                    Some(syn::Member::Unnamed(syn::Index::from(index))),
                )),
                None => Err(nested(ident.span())),
            }
        };
        let (kind, access) = match unparen(elem) {
            pat if is_owner(pat) => (BindKind::Single, None),
            Pat::Tuple(t) => positional(&t.elems)?,
            Pat::TupleStruct(t) => positional(&t.elems)?,
            Pat::Struct(s) => match s.fields.iter().find(|f| is_owner(&f.pat)) {
                Some(syn::FieldPat {
                    member: syn::Member::Named(field),
                    ..
                }) => (
                    BindKind::Field(field.clone()),
                    Some(syn::Member::Named(field.clone())),
                ),
                _ => return Err(nested(ident.span())),
            },
            _ => return Err(nested(ident.span())),
        };
        let inner = generic_of(&input.ty, "Path").cloned();
        if matches!(kind, BindKind::Field(_)) && inner.is_none() {
            return Err(syn::Error::new_spanned(
                &input.ty,
                "write this extractor's type as `Path<Params>`: the router reads the serde name \
                 of the owner's field from `Params` to check the route",
            ));
        }
        found = Some(OwnerBind {
            arg,
            access,
            kind,
            inner,
        });
    }
    Ok(found)
}

fn unparen(pat: &Pat) -> &Pat {
    match pat {
        Pat::Paren(p) => unparen(&p.pat),
        other => other,
    }
}

fn collect_idents(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(id) => out.push(id.ident.clone()),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_idents(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_idents(p, out)),
        Pat::Paren(p) => collect_idents(&p.pat, out),
        Pat::Struct(s) => {
            for f in &s.fields {
                collect_idents(&f.pat, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;
    use quote::quote;

    /// The check without a policy file.
    fn check(raw: Raw) -> syn::Result<Endpoint> {
        super::check(raw, None)
    }

    fn errors(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
        match check(parse(args, item).unwrap()) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100/15m"), Ok((100, 900)));
        assert_eq!(parse_rate("10/s"), Ok((10, 1)));
        assert_eq!(parse_rate("5/1h"), Ok((5, 3600)));
        assert_eq!(parse_rate(" 7 / 2d "), Ok((7, 172_800)));
        assert!(parse_rate("100").is_err());
        assert!(parse_rate("0/1m").is_err());
        assert!(parse_rate("10/0m").is_err());
        assert!(parse_rate("10/15x").is_err());
        assert!(parse_rate("10/").is_err());
        assert!(parse_rate("-1/m").is_err());
        assert!(parse_rate("99999999999/m").is_err());
        assert!(parse_rate("1/999999999999999999999d").is_err());
    }

    #[test]
    fn body_limits() {
        assert_eq!(parse_body_limit("100kb"), Ok(102_400));
        assert_eq!(parse_body_limit("100KB"), Ok(102_400));
        assert_eq!(parse_body_limit("512b"), Ok(512));
        assert_eq!(parse_body_limit("1B"), Ok(1));
        assert_eq!(parse_body_limit("2Mb"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_body_limit("1024mb"), Ok(1 << 30));
        assert_eq!(parse_body_limit("1048576kb"), Ok(1 << 30));
        assert_eq!(parse_body_limit("0kb"), Err(BodyLimitError::Zero));
        assert_eq!(parse_body_limit("0b"), Err(BodyLimitError::Zero));
        assert_eq!(parse_body_limit("1025mb"), Err(BodyLimitError::TooLarge));
        assert_eq!(
            parse_body_limit("1073741825b"),
            Err(BodyLimitError::TooLarge)
        );
        assert_eq!(
            parse_body_limit("99999999999999999999999mb"),
            Err(BodyLimitError::TooLarge)
        );
        assert_eq!(
            parse_body_limit("18014398509481984mb"),
            Err(BodyLimitError::TooLarge)
        );
        for bad in [
            "", "kb", "100", "100k", "100kib", "1gb", "-1kb", "+1kb", "1.5mb", "100 kb", " 100kb",
            "100kb ", "１kb",
        ] {
            assert!(
                matches!(parse_body_limit(bad), Err(BodyLimitError::Malformed(_))),
                "{bad:?}: {:?}",
                parse_body_limit(bad)
            );
        }
    }

    #[test]
    fn dates() {
        let d = parse_date("2026-06-30").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.unix),
            (2026, 6, 30, 1_782_777_600)
        );
        assert_eq!(d.to_string(), "2026-06-30");
        assert_eq!(parse_date("1970-01-01").unwrap().unix, 0);
        assert_eq!(parse_date("2000-03-01").unwrap().unix, 951_868_800);
        assert_eq!(parse_date("9999-12-31").unwrap().unix, 253_402_214_400);
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2000-02-29").is_ok());
        assert!(parse_date("2025-12-31").unwrap() < parse_date("2026-01-01").unwrap());
        let no_such = |s: &str| match parse_date(s) {
            Err(DateError::NoSuchDate(why)) => why,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(no_such("2026-02-29"), "February 2026 has 28 days");
        assert_eq!(no_such("2100-02-29"), "February 2100 has 28 days");
        assert_eq!(no_such("2024-02-30"), "February 2024 has 29 days");
        assert_eq!(no_such("2026-04-31"), "April has 30 days");
        assert_eq!(no_such("2026-01-00"), "days start at 01");
        assert_eq!(
            no_such("2026-13-01"),
            "there is no month 13; months are 01 to 12"
        );
        assert_eq!(
            no_such("2026-00-01"),
            "there is no month 00; months are 01 to 12"
        );
        assert_eq!(parse_date("1969-12-31"), Err(DateError::OutOfRange));
        assert_eq!(parse_date("0000-01-01"), Err(DateError::OutOfRange));
        for bad in [
            "",
            "2026-6-30",
            "26-06-30",
            "2026/06/30",
            "30.06.2026",
            "2026-06-30T00:00Z",
            " 2026-06-30",
            "2026-0a-30",
            "+026-06-30",
            "２０２６-06-30",
        ] {
            assert_eq!(parse_date(bad), Err(DateError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn successors() {
        for good in [
            "/api/v2/users/{user_id}",
            "/v2",
            "/",
            "https://api.example.com/v2/users",
            "https://api.example.com",
            "/api/v2/search?q=a%20b#top",
        ] {
            assert_eq!(check_successor(good), Ok(()), "{good:?}");
        }
        let why = |s: &str| check_successor(s).unwrap_err();
        assert!(why("/api/v2 users").contains("contains a space"));
        assert!(why("/api/v2 users").contains("`%20`"));
        assert!(why("/api/\"v2").contains("contains `\"`"));
        assert!(why("/api/v2>; rel=next").contains("contains `>`"));
        assert!(why("/api/<v2").contains("`%3C`"));
        assert!(why("/api/v2\r\nSet-Cookie: a=b").contains("control character `\\r`"));
        assert!(why("/api/v2\t").contains("control character `\\t`"));
        assert!(why("/api/vé").contains("non-ASCII character `é`"));
        assert!(why("/api/vé").contains("`%C3%A9`"));
        assert!(why("/api/v2|x").contains("contains `|`"));
        assert!(why("").contains("is empty"));
        assert!(why("//evil.example/v2").contains("names another host"));
        assert!(why("http://api.example.com/v2").contains("is not HTTPS"));
        assert!(why("https://").contains("names no host"));
        assert!(why("https:///v2").contains("names no host"));
        assert!(why("api/v2").contains("must be a path starting with `/`"));
        assert!(why("javascript:alert(1)").contains("must be a path starting with `/`"));
    }

    #[test]
    fn body_limit_needs_fields() {
        let errs = errors(
            quote!(auth = "none", body_limit = "1kb"),
            quote!(
                async fn f() {}
            ),
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("`body_limit` needs `fields`"), "{errs:?}");
        // A body without `fields` is reported once, by the `fields` rule.
        let errs = errors(
            quote!(auth = "none", body_limit = "1kb"),
            quote!(
                async fn f(Json(b): Json<B>) {}
            ),
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("declares no `fields`"), "{errs:?}");
    }

    #[test]
    fn body_limit_with_fields() {
        let ep = check(
            parse(
                quote!(auth = "none", fields = ["a"], body_limit = "100kb"),
                quote!(
                    async fn f(Json(b): Json<B>) {}
                ),
            )
            .unwrap(),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        let limit = ep.body_limit.unwrap();
        assert_eq!((limit.bytes, limit.text.as_str()), (102_400, "100kb"));
    }

    #[test]
    fn lifecycle_rules() {
        let f = quote!(
            async fn f() {}
        );
        let errs = errors(
            quote!(
                auth = "none",
                deprecated = "2026-06-30",
                sunset = "2026-06-29"
            ),
            f.clone(),
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("`sunset` (2026-06-29) is before `deprecated` (2026-06-30)"),
            "{errs:?}"
        );
        assert!(errors(
            quote!(
                auth = "none",
                deprecated = "2026-06-30",
                sunset = "2026-06-30"
            ),
            f.clone()
        )
        .is_empty());
        let errs = errors(quote!(auth = "none", successor = "/v2"), f.clone());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("`successor` needs `deprecated` or `sunset`"),
            "{errs:?}"
        );
        let errs = errors(
            quote!(auth = "none", sunset = "2026-12-31", sunset = "2027-01-01"),
            f.clone(),
        );
        assert_eq!(errs, ["duplicate key `sunset`; each key may appear once"]);
        let errs = errors(quote!(auth = "none", deprecated = 2026), f.clone());
        assert!(errs[0].contains("takes a date string"), "{errs:?}");

        let ep = check(
            parse(
                quote!(
                    auth = "none",
                    sunset = "2026-12-31",
                    successor = "https://x.example/v2"
                ),
                f,
            )
            .unwrap(),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(ep.lifecycle.deprecated, None);
        assert_eq!(ep.lifecycle.sunset.map(|d| d.unix), Some(1_798_675_200));
        assert_eq!(
            ep.lifecycle.successor.map(|s| s.value()).as_deref(),
            Some("https://x.example/v2")
        );
    }

    fn strict_policy() -> PolicyFile {
        PolicyFile {
            path: "/org/secure-endpoint.toml".into(),
            rules: policy_file::parse(
                r#"
                [rules]
                require_rate = true
                public = { allow = ["health"], require_reason = true }
                max_rate = "1000/1m"
                require_owner_for_ids = true
                allowed_schemes = ["jwt", "api_key"]
                api_key_requires_scopes = true
                max_body_limit = "1mb"
                "#,
            )
            .unwrap(),
        }
    }

    fn policy_errors(
        args: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
    ) -> Vec<String> {
        match super::check(parse(args, item).unwrap(), Some(&strict_policy())) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn policy_rules() {
        let f = quote!(
            async fn f() {}
        );
        let errs = policy_errors(quote!(auth = "jwt", allow = "authenticated"), f.clone());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("endpoint `f` has no `rate`, which the policy rule `require_rate` (in /org/secure-endpoint.toml) requires; add `rate = \"100/1m\"`, or waive it: `waive = [\"require_rate\"], reason = \"...\"`"), "{errs:?}");
        let errs = policy_errors(quote!(auth = "none", rate = "1/s"), f.clone());
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("lets only `health` be public"), "{errs:?}");
        assert!(errs[1].contains("without a `reason`"), "{errs:?}");
        let errs = policy_errors(
            quote!(auth = "jwt", allow = "authenticated", rate = "1001/1m"),
            f.clone(),
        );
        assert!(
            errs[0].contains(
                "rate `1001/1m` of endpoint `f` (16.68 requests/s) is above `1000/1m` (16.67/s)"
            ),
            "{errs:?}"
        );
        assert!(policy_errors(
            quote!(auth = "jwt", allow = "authenticated", rate = "16/1s"),
            f.clone()
        )
        .is_empty());
        let errs = policy_errors(
            quote!(auth = "jwt", roles = ["admin"], rate = "1/s"),
            quote!(
                async fn f(Path((org, doc_id)): Path<(u32, u32)>) {}
            ),
        );
        assert!(
            errs[0].contains("binds the id-like path parameter `doc_id`"),
            "{errs:?}"
        );
        let errs = policy_errors(
            quote!(auth = ["jwt", "hmac"], roles = ["a"], rate = "1/s"),
            f.clone(),
        );
        assert!(
            errs[0].contains("auth scheme `hmac` of endpoint `f` is not allowed"),
            "{errs:?}"
        );
        let errs = policy_errors(
            quote!(auth = "api_key", allow = "authenticated", rate = "1/s"),
            f.clone(),
        );
        assert!(
            errs[0].contains("accepts `api_key` but declares no `scopes`"),
            "{errs:?}"
        );
        let errs = policy_errors(
            quote!(
                auth = "jwt",
                roles = ["a"],
                rate = "1/s",
                fields = ["a"],
                body_limit = "2mb"
            ),
            quote!(
                async fn f(Json(b): Json<B>) {}
            ),
        );
        assert!(
            errs[0].contains("body limit `2mb` of endpoint `f` is above `1mb`"),
            "{errs:?}"
        );
    }

    #[test]
    fn waivers() {
        let f = quote!(
            async fn f() {}
        );
        let ep = super::check(
            parse(
                quote!(
                    auth = "jwt",
                    allow = "authenticated",
                    waive = ["require_rate"],
                    reason = "internal"
                ),
                f.clone(),
            )
            .unwrap(),
            Some(&strict_policy()),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(ep.waivers[0].value(), "require_rate");
        assert_eq!(ep.reason.unwrap().value(), "internal");
        assert!(policy_errors(
            quote!(
                auth = "none",
                rate = "1/s",
                waive = ["public"],
                reason = "status"
            ),
            f.clone()
        )
        .is_empty());
        let errs = errors(quote!(auth = "none", waive = ["require_rate"]), f.clone());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("a waiver needs a `reason`"), "{errs:?}");
        let errs = errors(
            quote!(auth = "none", waive = ["require_rates"], reason = "x"),
            f.clone(),
        );
        assert_eq!(
            errs,
            ["unknown policy rule `require_rates`; did you mean `require_rate`?"]
        );
        let errs = errors(quote!(auth = "none", reason = " "), f.clone());
        assert!(errs[0].starts_with("`reason` is empty"), "{errs:?}");
        let errs = errors(quote!(auth = "jwt", roles = ["a"], reason = "x"), f);
        assert!(
            errs[0].contains("explains a waiver or a public endpoint"),
            "{errs:?}"
        );
    }

    #[test]
    fn flows() {
        let f = quote!(
            async fn f() {}
        );
        let ep = check(
            crate::syntax::parse(quote!(auth = "none", flow = "password_reset"), f.clone())
                .unwrap(),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(ep.flow.unwrap().value(), "password_reset");
        for bad in ["password reset", "login!", "1login", "", "connexión"] {
            let errs = errors(quote!(auth = "none", flow = #bad), f.clone());
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert!(
                errs[0].starts_with("`flow` names a business flow with an identifier"),
                "{errs:?}"
            );
        }
        let errs = errors(quote!(auth = "none", flow = login), f.clone());
        assert_eq!(
            errs,
            ["`flow` takes a string naming the business flow: `flow = \"login\"`"]
        );
        let errs = errors(quote!(auth = "none", flwo = "login"), f);
        assert!(errs[0].contains("did you mean `flow`"), "{errs:?}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            unknown("atuh", "key", ALL_KEYS),
            "unknown key `atuh`; did you mean `auth`?"
        );
        assert_eq!(
            unknown("field", "key", ALL_KEYS),
            "unknown key `field`; did you mean `fields`?"
        );
        assert!(unknown("zzzzzz", "key", ALL_KEYS).contains("expected one of"));
    }

    #[test]
    fn dpop_scheme_and_its_misspellings() {
        let sig = || {
            quote!(
                async fn f() {}
            )
        };
        assert!(errors(quote!(auth = "dpop", allow = "authenticated"), sig()).is_empty());
        assert!(errors(
            quote!(auth = ["jwt", "dpop"], allow = "authenticated"),
            sig()
        )
        .is_empty());
        for spelled in ["jwt+dpop", "DPoP", "bearer_dpop"] {
            let errs = errors(quote!(auth = #spelled, allow = "authenticated"), sig());
            assert!(
                errs.len() == 1 && errs[0].contains("`auth = [\"jwt\", \"dpop\"]` accepts"),
                "{errs:?}"
            );
        }
    }

    #[test]
    fn all_errors_at_once() {
        let errs = errors(
            quote!(atuh = "jwt", rate = "x"),
            quote!(
                fn f(Json(b): Json<B>) {}
            ),
        );
        assert!(
            errs.iter().any(|e| e.contains("must be an `async fn`")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("did you mean `auth`")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("declares no `auth`")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("malformed rate")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("declares no `fields`")),
            "{errs:?}"
        );
    }

    #[test]
    fn owner_must_be_bound_unless_loaded() {
        let errs = errors(
            quote!(auth = "jwt", owner = "user_id"),
            quote!(
                async fn f(Path(id): Path<u32>) {}
            ),
        );
        assert!(errs[0].contains("the handler binds `id`"), "{errs:?}");
        assert!(errors(
            quote!(auth = "jwt", owner = "user_id"),
            quote!(
                async fn f(Path((org, user_id)): Path<(u32, u32)>) {}
            )
        )
        .is_empty());
        assert!(errors(
            quote!(auth = "jwt", owner = "order_id", loader = Order),
            quote!(
                async fn f(Owned(o): Owned<Order>) {}
            )
        )
        .is_empty());
    }

    /// The owner's binding as the macro reads it from the signature.
    fn binding(sig: proc_macro2::TokenStream) -> (usize, Option<String>, String) {
        let ep = check(parse(quote!(auth = "jwt", owner = "user_id"), sig).unwrap()).unwrap();
        let bind = ep.owner.unwrap().binding.unwrap();
        let kind = match bind.kind {
            BindKind::Single => "single".to_string(),
            BindKind::Position { index, arity } => format!("{index} of {arity}"),
            BindKind::Field(field) => format!("field {field}"),
        };
        (
            bind.arg,
            bind.access.map(|m| m.to_token_stream().to_string()),
            kind,
        )
    }

    #[test]
    fn owner_binds_by_name_position_or_field() {
        assert_eq!(
            binding(quote!(
                async fn f(State(s): State<S>, Path(user_id): Path<String>) {}
            )),
            (1, None, "single".into())
        );
        assert_eq!(
            binding(quote!(
                async fn f(Path((org_id, user_id)): Path<(String, String)>) {}
            )),
            (0, Some("1".into()), "1 of 2".into())
        );
        assert_eq!(
            binding(quote!(
                async fn f(Path(((user_id), _, page)): Path<(String, u8, u32)>) {}
            )),
            (0, Some("0".into()), "0 of 3".into())
        );
        assert_eq!(
            binding(quote!(
                async fn f(Path(Ids(org_id, user_id)): Path<Ids>) {}
            )),
            (0, Some("1".into()), "1 of 2".into())
        );
        assert_eq!(
            binding(quote!(
                async fn f(Path(P { id: user_id, .. }): Path<P>) {}
            )),
            (0, Some("id".into()), "field id".into())
        );
    }

    #[test]
    fn owner_bindings_that_cannot_be_mapped() {
        let errs = errors(
            quote!(auth = "jwt", owner = "user_id"),
            quote!(
                async fn f(Path((org_id, .., user_id)): Path<(u8, u8, u8)>) {}
            ),
        );
        assert!(
            errs[0].contains("`..` hides the position of `user_id`"),
            "{errs:?}"
        );
        let errs = errors(
            quote!(auth = "jwt", owner = "user_id"),
            quote!(
                async fn f(
                    Path(Ids {
                        pair: (org_id, user_id),
                    }): Path<Ids>,
                ) {
                }
            ),
        );
        assert!(errs[0].contains("bound inside a pattern"), "{errs:?}");
        let errs = errors(
            quote!(auth = "jwt", owner = "user_id"),
            quote!(
                async fn f(Path(P { user_id }): Path<P>, Path(user_id): Path<String>) {}
            ),
        );
        assert!(
            errs[0].contains("bound by two `Path` extractors"),
            "{errs:?}"
        );
        let errs = errors(
            quote!(auth = "jwt", owner = "user_id"),
            quote!(
                async fn f(Path(P { user_id }): PathAlias) {}
            ),
        );
        assert!(errs[0].contains("as `Path<Params>`"), "{errs:?}");
        // With a loader, a binding is optional but must be mappable too.
        let errs = errors(
            quote!(auth = "jwt", owner = "order_id", loader = Order),
            quote!(
                async fn f(Path((.., order_id)): Path<(u8, u8)>, Owned(o): Owned<Order>) {}
            ),
        );
        assert!(errs[0].contains("`..` hides"), "{errs:?}");
    }

    #[test]
    fn public_contradictions() {
        let errs = errors(
            quote!(auth = "none", owner = "id", roles = ["a"]),
            quote!(
                async fn f(Path(id): Path<u32>) {}
            ),
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs
            .iter()
            .all(|e| e.contains("contradicts `auth = \"none\"`")));
    }

    #[test]
    fn responses() {
        let ep = check(
            parse(
                quote!(auth = "none"),
                quote!(
                    async fn f() -> Result<(StatusCode, Json<User>), Problem> {}
                ),
            )
            .unwrap(),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        let texts: Vec<String> = ep.responses.iter().map(exposure::type_text).collect();
        assert_eq!(texts, ["User"]);
        let refused = |ret: proc_macro2::TokenStream| {
            errors(
                quote!(auth = "none"),
                quote!(
                    async fn f() -> #ret {}
                ),
            )
        };
        let errs = refused(quote!(Json<Vec<User>>));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("top-level JSON array"), "{errs:?}");
        assert!(
            errs[0].contains("`Json<secure_endpoint::List<User>>`"),
            "{errs:?}"
        );
        assert!(refused(quote!(Option<axum::Json<&'static [u8]>>))[0].contains("List<u8>"));
        assert!(refused(quote!(Json<[User; 2]>))[0].contains("List<User>"));
        assert!(refused(quote!(Json<(u8, u8)>))[0].contains("tuple"));
        assert!(refused(quote!(Json<impl Serialize>))[0].contains("cannot be checked"));
        // Not inspected: the body is not `Json`.
        assert!(refused(quote!(impl IntoResponse)).is_empty());
        assert!(refused(quote!(Vec<u8>)).is_empty());
    }

    #[test]
    fn graphql_takes_a_limits_constant_and_the_request_as_last_argument() {
        let ok = check(
            parse(
                quote!(
                    auth = "jwt",
                    allow = "authenticated",
                    graphql = LIMITS,
                    body_limit = "64kb"
                ),
                quote!(
                    async fn f(State(s): State<S>, request: GraphQlRequest) -> String {
                        String::new()
                    }
                ),
            )
            .unwrap(),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(ok.body_arg, Some(1));
        assert!(ok.graphql.is_some() && ok.fields.is_none());
        assert_eq!(ok.body_limit.as_ref().unwrap().bytes, 64 * 1024);

        let e = errors(
            quote!(
                auth = "jwt",
                allow = "authenticated",
                graphql = LIMITS,
                fields = ["query"]
            ),
            quote!(
                async fn f(request: GraphQlRequest) {}
            ),
        );
        assert!(
            e[0].contains("`fields` and `graphql` exclude each other"),
            "{e:?}"
        );
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", graphql = LIMITS),
            quote!(
                async fn f() {}
            ),
        );
        assert!(
            e[0].contains("needs the handler `f` to take the request"),
            "{e:?}"
        );
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated", graphql = "LIMITS"),
            quote!(
                async fn f(request: GraphQlRequest) {}
            ),
        );
        assert!(
            e[0].contains("`graphql` takes a `GraphQlLimits` constant"),
            "{e:?}"
        );
        // Without `graphql`, the request is a body without a contract.
        let e = errors(
            quote!(auth = "jwt", allow = "authenticated"),
            quote!(
                async fn f(request: GraphQlRequest) {}
            ),
        );
        assert!(e[0].contains("declares no `fields`"), "{e:?}");
    }

    #[test]
    fn valid_endpoint_checks() {
        let ep = check(
            parse(
                quote!(
                    auth = ["jwt", "api_key"],
                    roles = ["admin"],
                    rate = "10/m",
                    fields = ["a"]
                ),
                quote!(
                    async fn f(State(s): State<S>, Json(b): Json<B>) -> String {
                        String::new()
                    }
                ),
            )
            .unwrap(),
        )
        .map_err(|e| e.to_string())
        .unwrap();
        assert_eq!(ep.body_arg, Some(1));
        assert_eq!(ep.rate.as_ref().unwrap().period_secs, 60);
        assert!(ep.body_limit.is_none());
        assert!(ep.lifecycle.deprecated.is_none() && ep.lifecycle.sunset.is_none());
    }
}
