//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the `/api` routes,
//! assembled here from the handlers' `#[utoipa::path]` annotations and the
//! types' `ToSchema`, so it cannot drift from the code. What every route can
//! answer whatever its handler (the gate's and the limits' refusals) is added
//! to each operation in [`with_common_answers`].

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use super::{crowd, docs, orders, products, purchase, strategies};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "flashsale",
        description = "A flash sale that oversells without a lock and never with one. Every error answers `{\"error\": code, \"message\": text}`; each answer's description lists its codes.",
    ),
    paths(
        strategies::list,
        products::list,
        products::get,
        products::reset,
        purchase::buy,
        crowd::flash_crowd,
        crowd::crowd_report,
        orders::get,
        document,
        docs::page,
        docs::asset,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&AdminToken),
    tags(
        (name = "strategies", description = "The lock lab's catalogue."),
        (name = "products", description = "Products, their live numbers, restocking."),
        (name = "purchases", description = "One buyer, and where an order is."),
        (name = "crowds", description = "N buyers at once, run by the server."),
        (name = "docs", description = "This document and the page that shows it."),
    )
)]
struct ApiDoc;

/// The `admin_token` security scheme the admin routes name.
struct AdminToken;

impl utoipa::Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "ADMIN_TOKEN, when the service has one: restocks, crowds, and a purchase's pause, TTL, deadline or long business step need it.",
                    ))
                    .build(),
            ),
        );
    }
}

/// What any request may be answered before its handler runs (`routes::gate`,
/// `routes::limits`), by status and the codes it carries.
const COMMON_ANSWERS: [(&str, &str); 3] = [
    (
        "400",
        "`host_not_allowed`: the Host header is not served here (ALLOWED_HOSTS).",
    ),
    ("414", "`uri_too_long`: the request target is over 8 KiB."),
    (
        "431",
        "`headers_too_large`: the request headers are over 16 KiB.",
    ),
];

/// What any request that changes something may also be answered.
const COMMON_WRITE_ANSWERS: [(&str, &str); 3] = [
    (
        "403",
        "`cross_site_request`: a browser said it came from another site.",
    ),
    ("408", "`request_timeout`: the body did not arrive in time."),
    ("413", "`payload_too_large`: the body is over 4 KiB."),
];

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
}

/// Adds [`COMMON_ANSWERS`] to every operation (and [`COMMON_WRITE_ANSWERS`]
/// to every POST): a status the handler documents already gets the codes
/// appended to its description.
fn with_common_answers(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in doc.paths.paths.values_mut() {
        let reads = item.get.iter_mut().map(|operation| (operation, false));
        let writes = item.post.iter_mut().map(|operation| (operation, true));
        for (operation, writes) in reads.chain(writes) {
            let extra = COMMON_WRITE_ANSWERS.iter().filter(|_| writes);
            for (status, codes) in COMMON_ANSWERS.iter().chain(extra) {
                let responses = &mut operation.responses.responses;
                match responses.get_mut(*status) {
                    Some(RefOr::T(response)) => {
                        response.description = format!("{} Or {codes}", response.description);
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        responses.insert((*status).to_owned(), error_response(codes).into());
                    }
                }
            }
        }
    }
    doc
}

/// The document, built once.
pub fn document_value() -> &'static serde_json::Value {
    static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
        serde_json::to_value(with_common_answers(ApiDoc::openapi()))
            .expect("an OpenAPI document serialises")
    });
    &DOCUMENT
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "docs",
    responses((status = 200, description = "This document (OpenAPI 3.1).", body = Object,
        example = json!({"openapi": "3.1.0", "info": {"title": "flashsale", "version": "0.1.0"}, "paths": {}})))
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(document_value())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::document_value;
    use crate::crowd::CrowdSize;
    use crate::domain::{LockDeadline, LockTtl, PauseDelay, PerBuyer, StockLevel, WorkDelay};
    use crate::lock::Strategy;

    fn schema(name: &str) -> &'static Value {
        &document_value()["components"]["schemas"][name]
    }

    fn bounds(schema: &Value) -> (i64, i64) {
        let bound = |key: &str| {
            schema[key]
                .as_i64()
                .unwrap_or_else(|| panic!("{key} of {schema}"))
        };
        (bound("minimum"), bound("maximum"))
    }

    fn query_parameter(path: &str, name: &str) -> &'static Value {
        let parameters = document_value()["paths"][path]["post"]["parameters"]
            .as_array()
            .expect("parameters");
        let parameter = parameters.iter().find(|p| p["name"] == name);
        &parameter.unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
    }

    #[test]
    fn the_documents_bounds_are_the_domain_types_bounds() {
        let millis = |min: u64, max: u64| (min as i64, max as i64);
        let expected = [
            ("work_ms", millis(WorkDelay::MIN_MS, WorkDelay::MAX_MS)),
            ("pause_ms", millis(PauseDelay::MIN_MS, PauseDelay::MAX_MS)),
            ("ttl_ms", millis(LockTtl::MIN_MS, LockTtl::MAX_MS)),
            (
                "deadline_ms",
                millis(LockDeadline::MIN_MS, LockDeadline::MAX_MS),
            ),
        ];
        let crowd = &schema("CrowdBody")["properties"];
        for (name, bound) in expected {
            let purchase = query_parameter("/api/products/{id}/purchase", name);
            assert_eq!(bounds(purchase), bound, "purchase's {name}");
            assert_eq!(bounds(&crowd[name]), bound, "crowd's {name}");
        }
        assert_eq!(bounds(&crowd["buyers"]), (1, i64::from(CrowdSize::MAX)));
        assert_eq!(bounds(&crowd["restock"]), (0, StockLevel::MAX));
        assert_eq!(bounds(&crowd["per_buyer"]), (1, PerBuyer::MAX));
        let restock = &schema("RestockBody")["properties"];
        assert_eq!(bounds(&restock["stock"]), (0, StockLevel::MAX));
        assert_eq!(bounds(&restock["per_buyer"]), (1, PerBuyer::MAX));
    }

    #[test]
    fn the_strategy_enum_is_the_catalogues_names_in_order() {
        let names: Vec<&str> = schema("Strategy")["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .map(|name| name.as_str().expect("a string"))
            .collect();
        let catalogue: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, catalogue);
    }
}
