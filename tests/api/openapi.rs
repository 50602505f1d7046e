//! `GET /api/openapi.json` and `GET /api/docs`: the document is valid OpenAPI
//! 3.1, describes every `/api` route of the route table (and no other), and
//! the page is served from the service's own files.
//!
//! `openapi-3.1.schema.json` beside this file is the OpenAPI Initiative's
//! schema of 3.1 documents (https://spec.openapis.org/oas/3.1/schema/2022-10-07,
//! Apache-2.0), kept here so the test fetches nothing.

use std::path::PathBuf;

use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::helpers::{assert_error, client, spawn_app, spawn_app_with};

const OPENAPI_31_SCHEMA: &str = include_str!("openapi-3.1.schema.json");

async fn document(app: &flashsale::testing::TestApp) -> Value {
    let response = client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the document is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_openapi_3_1_and_its_schemas_valid_json_schema() {
    let app = spawn_app().await;

    let document = document(&app).await;

    assert_eq!(document["openapi"], "3.1.0");
    let schema: Value = serde_json::from_str(OPENAPI_31_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        let invalid = jsonschema::meta::validate(schema).err();
        assert!(invalid.is_none(), "schema {name}: {invalid:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_of_the_route_table_is_documented_and_nothing_else() {
    let app = spawn_app().await;
    let document = document(&app).await;

    let mut routes = Vec::new();
    for (path, methods) in flashsale::routes::route_table() {
        for method in methods.iter().filter(|m| m.as_str() != "HEAD") {
            if path.starts_with("/api/") {
                routes.push(format!("{} {path}", method.as_str().to_lowercase()));
            }
        }
    }
    let mut documented = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{method} {path}"));
        }
    }
    routes.sort();
    documented.sort();

    assert_eq!(documented, routes);
    assert_eq!(routes.len(), 11, "{routes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_answer_is_documented_with_the_error_shape() {
    let app = spawn_app().await;
    let document = document(&app).await;

    let mut undocumented = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, answer) in operation["responses"].as_object().unwrap() {
                let schema = &answer["content"]["application/json"]["schema"]["$ref"];
                if status.as_str() >= "400" && schema != "#/components/schemas/Error" {
                    undocumented.push(format!("{method} {path} {status}"));
                }
            }
        }
    }

    assert_eq!(undocumented, Vec::<String>::new());
    let error = &document["components"]["schemas"]["Error"];
    assert_eq!(error["required"], serde_json::json!(["error", "message"]));
}

/// A folder with stand-ins for Swagger UI's two files: what the service
/// serves is whatever is there, so the test needs no npm.
fn fake_swagger_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flashsale-docs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("swagger-ui.css"), "body{}").unwrap();
    std::fs::write(dir.join("swagger-ui-bundle.js"), "// bundle").unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_and_its_files_are_served_by_the_service() {
    let dir = fake_swagger_dir();
    let app = spawn_app_with(|settings| settings.api_docs_dir = dir.clone()).await;
    let get = |path: &str| client().get(app.url(path)).send();

    let page = get("/api/docs").await.unwrap();
    let css = get("/api/docs/swagger-ui.css").await.unwrap();
    let init = get("/api/docs/swagger-init.js").await.unwrap();
    let other = get("/api/docs/package.json").await.unwrap();

    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let html = page.text().await.unwrap();
    for link in [
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-init.js",
        "/api/openapi.json",
    ] {
        assert!(html.contains(&format!("=\"{link}\"")), "{link} in {html}");
    }
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    assert_eq!(css.text().await.unwrap(), "body{}");
    assert!(
        init.text()
            .await
            .unwrap()
            .contains("url: \"/api/openapi.json\"")
    );
    assert_error(other, StatusCode::NOT_FOUND, "not_found").await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_swagger_ui_installed_the_docs_page_says_how_to_install_it() {
    let dir = std::env::temp_dir().join(format!("flashsale-no-docs-{}", uuid::Uuid::new_v4()));
    let app = spawn_app_with(|settings| settings.api_docs_dir = dir).await;

    let page = client().get(app.url("/api/docs")).send().await.unwrap();
    let bundle = client()
        .get(app.url("/api/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();

    let body = assert_error(page, StatusCode::SERVICE_UNAVAILABLE, "docs_assets_missing").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("npm ci --prefix api-docs"),
        "{body}"
    );
    assert_error(
        bundle,
        StatusCode::SERVICE_UNAVAILABLE,
        "docs_assets_missing",
    )
    .await;
}

/// `schema` with the document's components beside it, so its `$ref`s resolve.
fn rooted(schema: &Value, document: &Value) -> Value {
    serde_json::json!({"allOf": [schema], "components": document["components"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_in_the_document_matches_its_own_schema() {
    let app = spawn_app().await;
    let document = document(&app).await;

    let mut examples = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let bodies = operation["requestBody"]["content"].as_object();
            let answers = operation["responses"].as_object().unwrap().values();
            let contents = answers.filter_map(|answer| answer["content"].as_object());
            for content in contents.chain(bodies) {
                for media in content.values() {
                    if let Some(example) = media.get("example") {
                        examples.push((format!("{method} {path}"), &media["schema"], example));
                    }
                }
            }
        }
    }
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            examples.push((name.clone(), schema, example));
        }
    }

    let mut wrong = Vec::new();
    for (place, schema, example) in &examples {
        let validator = jsonschema::validator_for(&rooted(schema, &document)).unwrap();
        for error in validator.iter_errors(example) {
            wrong.push(format!("{place}: {error} at {}", error.instance_path()));
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
    assert!(examples.len() >= 12, "{} examples", examples.len());
}
