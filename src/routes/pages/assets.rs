//! The page's stylesheet, script modules and icon, built into the binary:
//! the page works offline and under a CSP that allows nothing but the service
//! itself. The script is ES modules (`static/app.js` imports the others), one
//! per concern; their unit tests (`static/test/`, `node --test`) and
//! `static/package.json` are not served.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::ApiError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Browsers load a module only with a JavaScript content type.
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// One of the page's script modules, `static/$name`.
macro_rules! module {
    ($name:literal) => {
        Asset {
            name: $name,
            content_type: JAVASCRIPT,
            body: include_bytes!(concat!("../../../static/", $name)),
        }
    };
}

const ASSETS: [Asset; 13] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../../static/app.css"),
    },
    // The entry module, and the modules it imports.
    module!("app.js"),
    module!("api.js"),
    module!("buttons.js"),
    module!("live.js"),
    module!("runs.js"),
    module!("switch.js"),
    module!("watch.js"),
    module!("words.js"),
    module!("timeline.js"),
    module!("timeline-layout.js"),
    module!("timeline-words.js"),
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../../static/icon.svg"),
    },
];

/// `GET /static/{name}`: one of [`ASSETS`], else 404.
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let asset = ASSETS
        .iter()
        .find(|asset| asset.name == name.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("/static/{name}")))?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(asset.body))
}

