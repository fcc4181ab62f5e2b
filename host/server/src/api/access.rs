//! Who may call what: one table naming every route's access, and the
//! middleware that authenticates a request and checks it against the table
//! before any handler runs or any body is read.
//!
//! A route missing from the table is refused to everyone (deny by
//! default), so a new endpoint is closed until someone decides who may
//! call it. Callers present `Authorization: Bearer qlp_…`; a request for
//! another tenant's resource then gets the same 404 as one for a resource
//! that does not exist (the handlers' business, through
//! [`crate::auth::Caller::may_see`]).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::auth::Role;
use crate::auth::Role::{Admin, Auditor, Operator, Reviewer, Submitter};
use crate::auth::{Caller, KEY_PREFIX};
use crate::sso::{Refused, Sso};
use crate::store::KeyRefused;

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health and the registry's reads (published packages are
    /// signed and public by design).
    Open,
    /// A registry publisher's token (`qlp publisher add`), checked here
    /// before the body is read; the handler checks the publisher's
    /// namespaces against the package.
    Publisher,
    /// An API key holding one of these roles.
    Roles(&'static [Role]),
}

/// Who reads intents and capsules: submitters their own, the others their
/// tenant's.
const READERS: &[Role] = &[Submitter, Operator, Reviewer, Auditor];

/// Every route, by method and path pattern as the router names it.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/healthz", Access::Open),
    ("GET", "/readyz", Access::Open),
    // Counts and timings by route, tier, stage and plugin: no tenant's
    // identifiers or data.
    ("GET", "/metrics", Access::Open),
    ("GET", "/v1/openapi.json", Access::Open),
    ("POST", "/v1/intents", Access::Roles(&[Submitter])),
    ("GET", "/v1/intents", Access::Roles(READERS)),
    ("POST", "/v1/analyses", Access::Roles(&[Submitter])),
    ("GET", "/v1/intents/{id}", Access::Roles(READERS)),
    ("GET", "/v1/intents/{id}/events", Access::Roles(READERS)),
    (
        "POST",
        "/v1/intents/{id}/cancel",
        Access::Roles(&[Submitter, Operator]),
    ),
    (
        "POST",
        "/v1/intents/{id}/approve",
        Access::Roles(&[Reviewer]),
    ),
    (
        "POST",
        "/v1/intents/{id}/reject",
        Access::Roles(&[Reviewer]),
    ),
    ("POST", "/v1/checks", Access::Roles(&[Submitter])),
    ("GET", "/v1/capsules/{id}", Access::Roles(READERS)),
    ("GET", "/v1/capsules/{id}/sarif", Access::Roles(READERS)),
    ("GET", "/v1/capsules/{id}/download", Access::Roles(READERS)),
    (
        "GET",
        "/v1/capsules/{id}/artifacts/{name}",
        Access::Roles(READERS),
    ),
    (
        "GET",
        "/v1/capsules/{id}/files/{*path}",
        Access::Roles(READERS),
    ),
    ("GET", "/v1/plugins", Access::Roles(&Role::ALL)),
    ("GET", "/v1/tiers", Access::Roles(&Role::ALL)),
    ("POST", "/v1/webhooks", Access::Roles(&[Operator])),
    ("GET", "/v1/webhooks", Access::Roles(&[Operator])),
    ("DELETE", "/v1/webhooks/{id}", Access::Roles(&[Operator])),
    (
        "GET",
        "/v1/webhooks/{id}/deliveries",
        Access::Roles(&[Operator]),
    ),
    ("POST", "/v1/tenants", Access::Roles(&[Admin])),
    ("GET", "/v1/tenants", Access::Roles(&[Admin])),
    (
        "GET",
        "/v1/tenants/{id}/policy",
        Access::Roles(&[Admin, Operator, Auditor]),
    ),
    ("PUT", "/v1/tenants/{id}/policy", Access::Roles(&[Admin])),
    ("POST", "/v1/keys", Access::Roles(&[Admin])),
    ("GET", "/v1/keys", Access::Roles(&[Admin])),
    ("DELETE", "/v1/keys/{id}", Access::Roles(&[Admin])),
    ("GET", "/v1/audit", Access::Roles(&[Auditor])),
    ("GET", "/v1/registry/packages", Access::Open),
    ("POST", "/v1/registry/packages", Access::Publisher),
    (
        "GET",
        "/v1/registry/packages/{namespace}/{name}",
        Access::Open,
    ),
    (
        "GET",
        "/v1/registry/packages/{namespace}/{name}/{version}",
        Access::Open,
    ),
    (
        "GET",
        "/v1/registry/packages/{namespace}/{name}/{version}/component",
        Access::Open,
    ),
    (
        "POST",
        "/v1/registry/packages/{namespace}/{name}/{version}/yank",
        Access::Publisher,
    ),
    (
        "POST",
        "/v1/registry/packages/{namespace}/{name}/{version}/unyank",
        Access::Publisher,
    ),
];

/// The access of a route; `None` for one the table does not name.
pub fn access(method: &Method, path: &str) -> Option<Access> {
    // HEAD is answered by GET routes.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, a)| *a)
}

/// The id of a request: the client's `X-Request-Id` when it is 1 to
/// [`MAX_REQUEST_ID_LEN`] visible ASCII characters, else a new one. It is
/// answered in the same header and recorded in the audit trail.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Longest request id taken from a client.
pub const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    /// The id of the request the current task answers, for the bodies of
    /// its errors ([`super::ApiError`]).
    pub static REQUEST_ID: String;
}

/// The middleware giving every request its [`RequestId`], and its span: a
/// `request` span with the id, method, route and status, which every log
/// line of the request carries and which is exported as the request's
/// trace.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str());
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{} {route}", request.method()),
        request_id = %id,
        http.request.method = %request.method(),
        http.route = route,
        http.response.status_code = tracing::field::Empty,
    );
    if let Some(parent) = request
        .headers()
        .get(crate::telemetry::TRACEPARENT)
        .and_then(|v| v.to_str().ok())
    {
        crate::telemetry::continue_trace(&span, parent);
    }
    let mut response = REQUEST_ID
        .scope(
            id.clone(),
            tracing::Instrument::instrument(next.run(request), span.clone()),
        )
        .await;
    span.record("http.response.status_code", response.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Whether a request addressed to `host` (a `Host` header, port
/// included or not) is answered: `localhost`, IP addresses, and the names
/// the operator allowed. Browsers always send the name they resolved, so
/// a page on a name re-pointed at this server is refused.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim().to_ascii_lowercase();
    // `[v6]:port`, `[v6]`, `name:port`, `name`.
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, _)) => return v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host.as_str(), |(n, _)| n)
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name == "localhost"
        || name.parse::<std::net::Ipv4Addr>().is_ok()
        || allowed.iter().any(|a| a == name)
}

/// The middleware refusing requests addressed to a host name the server
/// does not answer to (421 `HOST_NOT_ALLOWED`).
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or_default());
    match host {
        Some(host) if !host_allowed(host, &state.allowed_hosts) => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "HOST_NOT_ALLOWED",
            "this server does not answer to that host name (`--allowed-host`)",
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// The methods the access table lists for the route template `path`
/// (`HEAD` with `GET`).
pub fn methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = ROUTES
        .iter()
        .filter(|(_, p, _)| *p == path)
        .map(|(m, _, _)| *m)
        .collect();
    if methods.contains(&"GET") {
        methods.push("HEAD");
    }
    methods
}

/// 405 `METHOD_NOT_ALLOWED` with the `Allow` header, for a method the
/// route does not answer: before authentication, as the router would.
fn method_not_allowed(allowed: &[&str]) -> Response {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("this endpoint answers {}", allowed.join(", ")),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The bearer token of a request, if it presents one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A 401 with the challenge clients expect.
fn unauthenticated(code: &'static str, message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    // A refused request's body is not read; closing the connection spares
    // the client sending the rest of it.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The middleware: authenticates, checks the route's roles, and hands the
/// [`crate::auth::Caller`] to the handler as a request extension.
pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    // The fallback (no route matched) answers 404 to anyone.
    let Some(path) = request.extensions().get::<MatchedPath>() else {
        return next.run(request).await;
    };
    let Some(access) = access(request.method(), path.as_str()) else {
        let allowed = methods(path.as_str());
        if !allowed.is_empty() {
            return method_not_allowed(&allowed);
        }
        tracing::error!(method = %request.method(), path = path.as_str(), "route missing from the access table");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this endpoint is not open to any role",
        )
        .into_response();
    };
    let roles = match access {
        Access::Open => return next.run(request).await,
        Access::Publisher => {
            let Some(token) = bearer(request.headers()) else {
                return unauthenticated(
                    "UNAUTHENTICATED",
                    "publishing and yanking need `Authorization: Bearer TOKEN` of a publisher",
                );
            };
            let Some(publisher) = state.registry.publishers.authenticate(token) else {
                return unauthenticated(
                    "UNAUTHENTICATED",
                    "the token is not one of this server's publishers",
                );
            };
            let publisher = publisher.clone();
            request.extensions_mut().insert(publisher);
            return next.run(request).await;
        }
        Access::Roles(roles) => roles,
    };
    let Some(token) = bearer(request.headers()) else {
        return unauthenticated(
            "UNAUTHENTICATED",
            "this endpoint needs `Authorization: Bearer …`: an API key (`qlp_…`) or a token of the identity provider",
        );
    };
    let mut caller = match authenticate(&state, token).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if !caller.has_any(roles) {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!("this endpoint needs the role {}", names.join(" or ")),
        )
        .into_response();
    }
    if let Some(RequestId(id)) = request.extensions().get::<RequestId>() {
        caller.request_id = id.clone();
    }
    tracing::debug!(caller = %caller.identity, request = %caller.request_id, "authenticated");
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The caller `token` authenticates, or the refusal to answer: an API key
/// (`qlp_…`), or a JWT of the identity provider when single sign-on is
/// configured.
async fn authenticate(state: &AppState, token: &str) -> Result<Caller, Response> {
    if let Some(sso) = state.sso.as_ref()
        && !token.starts_with(KEY_PREFIX)
        && Sso::looks_like_jwt(token)
    {
        let refused = |r: Refused| unauthenticated(r.code(), r.message());
        let verified = sso.verify(token).await.map_err(refused)?;
        return match state.store.tenant_policy(&verified.tenant).await {
            Ok(Some(_)) => Ok(verified.into_caller()),
            Ok(None) => Err(refused(Refused::UnknownTenant)),
            Err(e) => Err(ApiError::from(e).into_response()),
        };
    }
    match state.store.authenticate(token).await {
        Ok(Ok(caller)) => Ok(caller),
        Ok(Err(KeyRefused::Unknown)) => {
            Err(unauthenticated("INVALID_KEY", "the API key is not valid"))
        }
        Ok(Err(KeyRefused::Expired)) => {
            Err(unauthenticated("KEY_EXPIRED", "the API key has expired"))
        }
        Ok(Err(KeyRefused::Revoked)) => {
            Err(unauthenticated("KEY_REVOKED", "the API key was revoked"))
        }
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_named_once() {
        for (i, (m, p, _)) in ROUTES.iter().enumerate() {
            assert!(
                !ROUTES[..i].iter().any(|(m2, p2, _)| m == m2 && p == p2),
                "{m} {p} twice"
            );
        }
    }

    #[test]
    fn a_route_answers_the_methods_the_table_lists_and_405_names_them() {
        assert_eq!(methods("/v1/intents"), ["POST", "GET", "HEAD"]);
        assert_eq!(methods("/v1/keys/{id}"), ["DELETE"]);
        assert!(methods("/v1/nothing").is_empty());
        let refused = method_not_allowed(&methods("/healthz"));
        assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(refused.headers()[header::ALLOW], "GET, HEAD");
    }

    #[test]
    fn head_is_read_as_get_and_unknown_routes_have_no_access() {
        assert_eq!(access(&Method::HEAD, "/healthz"), Some(Access::Open));
        assert_eq!(access(&Method::PUT, "/v1/intents"), None);
        assert_eq!(access(&Method::GET, "/v1/nothing"), None);
    }

    #[test]
    fn only_localhost_ip_addresses_and_allowed_names_are_answered() {
        let allowed = vec!["qlp.example.com".to_owned()];
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.",
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "[2001:db8::1]",
            "qlp.example.com",
            "QLP.example.com:443",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "qlp.example.com.evil.example",
            "127.0.0.1.nip.io",
            "[::1",
            "[not-v6]:80",
            "",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
        assert!(!host_allowed("qlp.example.com", &[]));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively_and_never_empty() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
