// GET /api/docs: Swagger UI drawing the service's own document. No
// validator badge: it would send the document to validator.swagger.io.
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
