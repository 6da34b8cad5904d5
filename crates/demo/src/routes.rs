//! The route tables: every route of both services with what it is for. The OpenAPI document and
//! the docs page are generated from these, so a route is documented in one place.

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template in axum/OpenAPI syntax (`/items/{id}`).
    pub path: &'static str,
    /// One line: what the route does.
    pub summary: &'static str,
    /// What the route exercises in the dashboard.
    pub description: &'static str,
    /// Integer path parameters: name, description, an example value for "Try it".
    pub path_params: &'static [(&'static str, &'static str, u64)],
    /// The statuses the route answers with, and when.
    pub responses: &'static [(u16, &'static str)],
}

/// `/health`, on both services.
const HEALTH: RouteDoc = RouteDoc {
    method: "GET",
    path: "/health",
    summary: "Liveness.",
    description: "What a supervisor or load balancer polls.",
    path_params: &[],
    responses: &[(200, "The service is up.")],
};

/// `/metrics`, on both services.
const METRICS: RouteDoc = RouteDoc {
    method: "GET",
    path: "/metrics",
    summary: "Prometheus metrics (text 0.0.4, or OpenMetrics with exemplars when asked).",
    description: "What tetrad scrapes: request counts, durations, sizes, exceptions.",
    path_params: &[],
    responses: &[(200, "The exposition.")],
};

/// The backend's routes (port 8000).
pub const BACKEND_ROUTES: &[RouteDoc] = &[
    RouteDoc {
        method: "GET",
        path: "/",
        summary: "A cheap success.",
        description: "Baseline traffic for the request-rate and latency panels.",
        path_params: &[],
        responses: &[(200, "A greeting.")],
    },
    RouteDoc {
        method: "GET",
        path: "/items/{id}",
        summary: "An item with its stock, fetched from the inventory service.",
        description: "Calls the inventory service over HTTP (a two-service trace and a service-map \
                      edge) and fingerprints the item (CPU work for the flame graph). Ids \
                      divisible by 7 have no stock: 404.",
        path_params: &[("id", "Item id, a non-negative integer.", 1)],
        responses: &[
            (200, "The item and its stock."),
            (404, "The inventory has no such item (ids divisible by 7)."),
            (422, "The id is not a non-negative integer."),
            (502, "The inventory service failed or could not be reached."),
        ],
    },
    RouteDoc {
        method: "GET",
        path: "/slow",
        summary: "Answers after a random 0.5-2 s.",
        description: "Fills the upper latency buckets: p95/p99, slowest endpoints, Apdex, the \
                      high-latency alert.",
        path_params: &[],
        responses: &[(200, "How long it slept.")],
    },
    RouteDoc {
        method: "GET",
        path: "/error",
        summary: "Always a 500.",
        description: "Server errors: the 5xx rate panel and the error-rate alert.",
        path_params: &[],
        responses: &[(500, "A server error, on purpose.")],
    },
    RouteDoc {
        method: "GET",
        path: "/fail",
        summary: "A client error: 400, 401, 403 and 422 in turn.",
        description: "Client errors: the 4xx rate panel, several status codes.",
        path_params: &[],
        responses: &[
            (400, "Bad request."),
            (401, "Not authenticated."),
            (403, "Forbidden."),
            (422, "Unprocessable."),
        ],
    },
    RouteDoc {
        method: "GET",
        path: "/panic",
        summary: "The handler panics.",
        description: "An unhandled exception: the exceptions-by-type panel and an error log line.",
        path_params: &[],
        responses: &[(500, "The panic, caught by the instrumentation.")],
    },
    HEALTH,
    METRICS,
    RouteDoc {
        method: "GET",
        path: "/openapi.json",
        summary: "This API as an OpenAPI 3.0 document.",
        description: "Read by the /docs page.",
        path_params: &[],
        responses: &[(200, "The document.")],
    },
    RouteDoc {
        method: "GET",
        path: "/docs",
        summary: "A page listing these routes with a \"Try it\" link each.",
        description: "Self-contained: no external scripts or styles.",
        path_params: &[],
        responses: &[(200, "An HTML page.")],
    },
];

/// The inventory service's routes (port 8100).
pub const INVENTORY_ROUTES: &[RouteDoc] = &[
    RouteDoc {
        method: "GET",
        path: "/stock/{id}",
        summary: "The stock of an item, after 1-20 ms.",
        description: "The downstream side of /items/{id}: the second service in its traces.",
        path_params: &[("id", "Item id, a non-negative integer.", 1)],
        responses: &[
            (200, "The item's stock."),
            (404, "No such item (ids divisible by 7)."),
            (422, "The id is not a non-negative integer."),
        ],
    },
    HEALTH,
    METRICS,
    RouteDoc {
        method: "GET",
        path: "/openapi.json",
        summary: "This API as an OpenAPI 3.0 document.",
        description: "For clients and docs tools.",
        path_params: &[],
        responses: &[(200, "The document.")],
    },
];
