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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn scripts() -> impl Iterator<Item = (&'static str, &'static str)> {
        ASSETS
            .iter()
            .filter(|asset| asset.content_type == JAVASCRIPT)
            .map(|asset| {
                let text = std::str::from_utf8(asset.body).expect("a script is UTF-8");
                (asset.name, text)
            })
    }

    /// The modules a script imports (`import … from "./x.js"`, `import "./x.js"`).
    fn imports(script: &str) -> Vec<&str> {
        let mut found = Vec::new();
        for keyword in ["from ", "import "] {
            for quote in ['"', '\''] {
                let opening = format!("{keyword}{quote}./");
                for (at, _) in script.match_indices(&opening) {
                    let rest = &script[at + opening.len()..];
                    found.push(rest.split(quote).next().unwrap_or(rest));
                }
            }
        }
        found
    }

    #[test]
    fn every_module_a_script_imports_is_served() {
        let served: BTreeSet<&str> = ASSETS.iter().map(|asset| asset.name).collect();
        let mut edges = 0;
        for (name, script) in scripts() {
            for import in imports(script) {
                assert!(
                    served.contains(import),
                    "{name} imports ./{import}, which is not served"
                );
                edges += 1;
            }
        }
        assert!(
            edges >= 10,
            "the scripts import one another: {edges} imports found"
        );
    }

    #[test]
    fn every_script_in_static_is_served_and_nothing_else_of_its_tooling() {
        let static_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let served: BTreeSet<&str> = ASSETS.iter().map(|asset| asset.name).collect();
        for entry in std::fs::read_dir(&static_dir).expect("read static/") {
            let name = entry.expect("a file in static/").file_name();
            let name = name.to_str().expect("a UTF-8 name");
            if name.ends_with(".js") {
                assert!(served.contains(name), "static/{name} is not served");
            }
        }
        for name in served {
            assert!(
                !name.contains(".test.") && !name.contains('/') && name != "package.json",
                "{name} is served"
            );
        }
    }

    #[test]
    fn every_script_is_served_as_javascript_without_which_no_module_loads() {
        for asset in ASSETS.iter().filter(|asset| asset.name.ends_with(".js")) {
            assert_eq!(
                asset.content_type, "text/javascript; charset=utf-8",
                "{}",
                asset.name
            );
        }
    }

    #[test]
    fn no_script_sets_an_inline_style_attribute_which_the_csp_blocks() {
        for (name, script) in scripts() {
            for attribute in [r#"setAttribute("style""#, "setAttribute('style'"] {
                assert!(!script.contains(attribute), "{name} sets a style attribute");
            }
        }
    }
}
