// Starts Swagger UI from a file (not an inline script) so the page keeps a strict CSP.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The validator badge would call a remote service.
    validatorUrl: null,
  });
})();
