//! Routes as resources, so that every path answers for itself: the methods
//! registered on it, HEAD wherever it answers GET, OPTIONS with the methods
//! it allows, and `405 method_not_allowed` (with `Allow`) for any other. The
//! `Allow` list is built from the routes registered, never kept by hand. A
//! path that matches no resource is `404 not_found` ([`not_found`]).

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::{Method, header};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, guard, web};

use crate::error::ApiError;

/// One path and the handlers of its methods.
pub struct Endpoint {
    path: String,
    resource: Resource,
    methods: Vec<Method>,
}

impl Endpoint {
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            resource: web::resource(path),
            methods: Vec::new(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The methods registered, HEAD included (OPTIONS is every path's).
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// GET, and HEAD through the same handler: the server sends HEAD the
    /// answer's head only.
    pub fn get<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.methods.extend([Method::GET, Method::HEAD]);
        let get_or_head = guard::Any(guard::Get()).or(guard::Head());
        self.resource = self
            .resource
            .route(web::route().guard(get_or_head).to(handler));
        self
    }

    pub fn post<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.methods.push(Method::POST);
        self.resource = self.resource.route(web::post().to(handler));
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let allow = self
            .methods
            .iter()
            .chain([&Method::OPTIONS])
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let other_methods = move |request: HttpRequest| {
            let allow = allow.clone();
            async move { other_method(request.method(), allow) }
        };
        self.resource
            .default_service(web::to(other_methods))
            .register(config);
    }
}

/// OPTIONS says what the path allows; any other method is refused.
fn other_method(method: &Method, allow: String) -> Result<HttpResponse, ApiError> {
    if method == Method::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow))
            .finish());
    }
    Err(ApiError::MethodNotAllowed {
        method: method.to_string(),
        allow,
    })
}

/// The answer for a path no route has.
pub async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(request.path().to_owned()))
}
