//! `GET /api/docs`: the OpenAPI document drawn by Swagger UI, from files the
//! service serves itself (`swagger-ui-dist`, pinned in `api-docs/package.json`
//! and installed by `npm ci --prefix api-docs`): the page asks nothing of any
//! other host. Without those files it answers 503 saying how to get them.

use std::path::Path;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The files of `swagger-ui-dist` the page loads, and their types; nothing
/// else in that folder is served.
const SWAGGER_FILES: [(&str, &str); 2] = [
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
];

/// Our own start-up script: Swagger UI pointed at the document, with no
/// validator badge (it would ask validator.swagger.io).
const INIT_SCRIPT: &str = include_str!("../../api-docs/swagger-init.js");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>flashsale API</title>
  <link rel="icon" href="/static/icon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
  <p><a href="/">The flash sale</a> · <a href="/api/openapi.json">openapi.json</a></p>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/swagger-init.js"></script>
</body>
</html>
"#;

/// Only this service; Swagger UI sets styles from script and draws its icons
/// from `data:` images.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

fn missing(dir: &Path) -> ApiError {
    ApiError::DocsAssetsMissing(dir.display().to_string())
}

#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "docs",
    responses(
        (status = 200, description = "The page that draws this document.", body = String, content_type = "text/html"),
        (status = 503, description = "`docs_assets_missing`: Swagger UI's files are not installed; the message says how to install them.", body = ErrorBody),
    )
)]
pub async fn page(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let dir = &state.api_docs_dir;
    if !SWAGGER_FILES
        .iter()
        .all(|(name, _)| dir.join(name).is_file())
    {
        return Err(missing(dir));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .body(PAGE))
}

#[utoipa::path(
    get,
    path = "/api/docs/{asset}",
    tag = "docs",
    params(("asset" = String, Path, description = "`swagger-ui.css`, `swagger-ui-bundle.js` or `swagger-init.js`.")),
    responses(
        (status = 200, description = "One of the page's files.", content(
            (String = "text/css"),
            (String = "text/javascript"),
        )),
        (status = 404, description = "`not_found`: not one of the page's files.", body = ErrorBody),
        (status = 503, description = "`docs_assets_missing`: Swagger UI's files are not installed.", body = ErrorBody),
    )
)]
pub async fn asset(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let javascript = "text/javascript; charset=utf-8";
    if name == "swagger-init.js" {
        return Ok(HttpResponse::Ok()
            .content_type(javascript)
            .body(INIT_SCRIPT));
    }
    let Some((file, content_type)) = SWAGGER_FILES.iter().find(|(file, _)| *file == name) else {
        return Err(ApiError::NotFound(format!("/api/docs/{name}")));
    };
    let dir = &state.api_docs_dir;
    let body = tokio::fs::read(dir.join(file))
        .await
        .map_err(|_| missing(dir))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body))
}
