//! `GET /v1/openapi.json`: the API's OpenAPI 3.1 description, derived
//! from the handlers' `#[utoipa::path]` annotations and the typed bodies
//! of [`super::types`]. Who may call each operation comes from the same
//! table the server enforces ([`super::access::ROUTES`]), and the errors
//! every route can answer (authentication, roles, malformed or oversized
//! bodies, a busy database) are added to each operation from it, so the
//! description cannot drift from what the server does.

use axum::Json;
use axum::http::Method;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use super::access::{self, Access};
use super::types;

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "QLP",
        description = "Submit intents, follow their pipelines, fetch capsules; \
                       manage tenants, keys, webhooks and the plugin registry.",
        license(name = "Apache-2.0"),
    ),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        openapi_json,
        super::intents::submit_intent,
        super::intents::list_intents,
        super::intents::analyze_intent,
        super::intents::get_intent,
        super::events::intent_events,
        super::decisions::cancel_intent,
        super::decisions::approve_intent,
        super::decisions::reject_intent,
        super::capsules::get_capsule,
        super::capsules::capsule_sarif,
        super::capsules::download_capsule,
        super::capsules::capsule_artifact,
        super::capsules::capsule_file,
        super::plugins::list_plugins,
        super::plugins::list_tiers,
        super::webhooks::register_webhook,
        super::webhooks::list_webhooks,
        super::webhooks::remove_webhook,
        super::webhooks::webhook_deliveries,
        super::audit::audit_page,
    ),
    components(schemas(types::ErrorBody)),
    tags(
        (name = "intents", description = "Submit intents and checks, follow them"),
        (name = "approval", description = "Approve or reject a capsule awaiting approval"),
        (name = "capsules", description = "What a pipeline produced"),
        (name = "plugins", description = "Plugins and tiers in force"),
        (name = "webhooks", description = "Signed notifications of intents' outcomes"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "admin", description = "Tenants, their policies and API keys"),
        (name = "registry", description = "The signed plugin registry"),
        (name = "operations", description = "Health, readiness, metrics, this description"),
    )
)]
pub struct ApiDoc;

/// The description, with every module's operations.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::admin::Doc::openapi());
    doc.merge(super::registry::Doc::openapi());
    doc.merge(super::checks::Doc::openapi());
    Callers.modify(&mut doc);
    doc
}

/// `GET /v1/openapi.json`.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "This description (OpenAPI 3.1)", body = Object)))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    static DOC: std::sync::LazyLock<utoipa::openapi::OpenApi> = std::sync::LazyLock::new(document);
    Json(DOC.clone())
}

/// The security scheme of API keys and identity-provider tokens.
const BEARER: &str = "bearer";

/// The security scheme of registry publishers' tokens.
const PUBLISHER: &str = "publisher";

/// Adds the security schemes, and to each operation who may call it and
/// the errors any call may meet.
struct Callers;

impl Modify for Callers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`qlp_…`) or a token of the configured identity provider",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            PUBLISHER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A registry publisher's token (`--publishers`)"))
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let operations = [
                (Method::GET, &mut item.get),
                (Method::PUT, &mut item.put),
                (Method::POST, &mut item.post),
                (Method::DELETE, &mut item.delete),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    describe(&method, path, operation);
                }
            }
        }
    }
}

/// The access table's template of a described path: a catch-all segment
/// is `{*name}` there and `{name}` here.
fn route_template(path: &str) -> String {
    path.replace("{path}", "{*path}")
}

/// Adds to `operation` who may call it and the errors any call may meet.
fn describe(method: &Method, path: &str, operation: &mut Operation) {
    let access = access::access(method, &route_template(path));
    let has_body = operation.request_body.is_some();
    let mut add = |status: &str, why: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(why));
    };
    match access {
        Some(Access::Open) | None => {}
        Some(Access::Publisher) => {
            add("401", "`UNAUTHENTICATED`: no publisher's bearer token");
        }
        Some(Access::Roles(_)) => {
            add(
                "401",
                "`UNAUTHENTICATED`, `KEY_EXPIRED`, `KEY_REVOKED`, `INVALID_TOKEN`: no valid bearer token",
            );
            add("403", "`FORBIDDEN`: the caller lacks the role");
        }
    }
    if has_body {
        add("400", "`INVALID_JSON`, `INVALID_REQUEST`: a malformed body");
        add("413", "`PAYLOAD_TOO_LARGE`");
        add("415", "`UNSUPPORTED_MEDIA_TYPE`");
        add("422", "`INVALID_REQUEST`: a body of the wrong shape");
    }
    if method == Method::POST {
        add(
            "429",
            "`QUEUE_FULL`, `RATE_LIMITED`, `QUOTA_EXCEEDED`: retry after `Retry-After`",
        );
    }
    add(
        "400",
        "`INVALID_REQUEST`: a malformed path, query or header",
    );
    add(
        "421",
        "`HOST_NOT_ALLOWED`: a host name the server does not answer to",
    );
    add("500", "`INTERNAL`: logged with the request id");
    add(
        "503",
        "`STORE_BUSY`, `STORE_UNAVAILABLE`, `SERVER_BUSY`: retry after `Retry-After`",
    );
    match access {
        Some(Access::Publisher) => {
            operation.security = Some(vec![SecurityRequirement::new(PUBLISHER, [""; 0])]);
        }
        Some(Access::Roles(roles)) => {
            operation.security = Some(vec![SecurityRequirement::new(BEARER, [""; 0])]);
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let who = format!("Roles: {}.", names.join(", "));
            operation.description = Some(match operation.description.take() {
                Some(d) => format!("{d}\n\n{who}"),
                None => who,
            });
        }
        Some(Access::Open) | None => operation.security = Some(vec![]),
    }
}

/// An error answer: `{"code", "message"}`.
fn error_response(why: &str) -> RefOr<Response> {
    let mut response = Response::new(why);
    response.content.insert(
        "application/json".to_owned(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    );
    RefOr::T(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation<'a>(
        doc: &'a utoipa::openapi::OpenApi,
        method: &str,
        path: &str,
    ) -> Option<&'a Operation> {
        let item = doc.paths.paths.get(path)?;
        match method {
            "GET" => item.get.as_ref(),
            "PUT" => item.put.as_ref(),
            "POST" => item.post.as_ref(),
            "DELETE" => item.delete.as_ref(),
            _ => None,
        }
    }

    #[test]
    fn every_route_of_the_access_table_is_described_and_nothing_else() {
        let doc = document();
        for (method, pattern, _) in access::ROUTES {
            let path = pattern.replace("{*path}", "{path}");
            assert!(
                operation(&doc, method, &path).is_some(),
                "{method} {pattern} is not described"
            );
        }
        let described: usize = doc
            .paths
            .paths
            .values()
            .map(|i| {
                [&i.get, &i.put, &i.post, &i.delete, &i.patch]
                    .into_iter()
                    .flatten()
                    .count()
            })
            .sum();
        assert_eq!(described, access::ROUTES.len());
    }

    #[test]
    fn each_operation_names_who_may_call_it_and_the_errors_it_may_answer() {
        let doc = document();
        let schemes = |o: &Operation| -> Vec<String> {
            let json = serde_json::to_value(o.security.as_ref().expect("security set"))
                .expect("serializes");
            json.as_array()
                .expect("a list")
                .iter()
                .flat_map(|r| r.as_object().expect("a map").keys().cloned())
                .collect()
        };
        for (method, pattern, access) in access::ROUTES {
            let o =
                operation(&doc, method, &pattern.replace("{*path}", "{path}")).expect("described");
            let has = |status: &str| o.responses.responses.contains_key(status);
            for status in ["400", "421", "500", "503"] {
                assert!(has(status), "{method} {pattern} lacks {status}");
            }
            match access {
                Access::Open => {
                    assert!(schemes(o).is_empty(), "{method} {pattern}");
                    assert!(!has("401") && !has("403"), "{method} {pattern}");
                }
                Access::Publisher => {
                    assert_eq!(schemes(o), [PUBLISHER], "{method} {pattern}");
                    assert!(has("401"), "{method} {pattern}");
                }
                Access::Roles(roles) => {
                    assert_eq!(schemes(o), [BEARER], "{method} {pattern}");
                    assert!(has("401") && has("403"), "{method} {pattern}");
                    let text = o.description.as_deref().unwrap_or_default();
                    for role in *roles {
                        assert!(text.contains(role.as_str()), "{method} {pattern}: {text}");
                    }
                }
            }
            if o.request_body.is_some() {
                for status in ["413", "415", "422"] {
                    assert!(has(status), "{method} {pattern} lacks {status}");
                }
            }
            if *method == "POST" {
                assert!(has("429"), "{method} {pattern} lacks 429");
            }
        }
    }

    #[test]
    fn errors_are_described_by_the_error_body() {
        let doc = serde_json::to_value(document()).expect("serializes");
        let error = &doc["paths"]["/v1/intents/{id}"]["get"]["responses"]["503"];
        assert_eq!(
            error["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
        let schema = &doc["components"]["schemas"]["ErrorBody"];
        assert_eq!(schema["required"], serde_json::json!(["code", "message"]));
    }
}
