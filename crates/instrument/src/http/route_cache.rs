//! The metric handles of one route, resolved once and kept with the route's middleware.
//!
//! `Router::layer` wraps every route (and every method of it) in its own middleware instance,
//! so each instance sees one route, one method and a few status codes. Caching their handles
//! there turns the six label-set lookups of a response (hash the label values, lock the
//! family, clone its value) into a short scan of a handful of entries.
//!
//! Both lists are bounded; past the bounds the handles are looked up in the families as
//! without a cache, so a route answering many different statuses costs more but never grows
//! memory.

use super::red::HttpMetrics;
use crate::metrics::{Counter, Gauge, Histogram};
use axum::http::StatusCode;
use parking_lot::RwLock;
use std::sync::Arc;

/// Most (method, route) pairs cached per middleware instance: one, unless the router nests a
/// service that serves several routes.
pub(crate) const MAX_ROUTES: usize = 8;
/// Most status codes cached per (method, route).
pub(crate) const MAX_STATUSES: usize = 16;

/// The cache of one middleware instance.
#[derive(Default)]
pub(crate) struct RouteCache {
    routes: RwLock<Vec<Arc<RouteHandles>>>,
}

/// The handles of the metrics labelled by method and route.
pub(crate) struct RouteHandles {
    method: &'static str,
    route: Box<str>,
    pub(crate) requests: Counter,
    pub(crate) in_progress: Gauge,
    pub(crate) request_size: Histogram,
    statuses: RwLock<Vec<Arc<StatusHandles>>>,
}

/// The handles of the metrics labelled by method, route and status code.
pub(crate) struct StatusHandles {
    status: StatusCode,
    pub(crate) responses: Counter,
    pub(crate) duration: Histogram,
    pub(crate) response_size: Histogram,
}

impl RouteCache {
    /// The handles of `method` and `route`, cached when there is room.
    pub(crate) fn route(
        &self,
        metrics: &HttpMetrics,
        method: &'static str,
        route: &str,
    ) -> Arc<RouteHandles> {
        let matches = |h: &&Arc<RouteHandles>| h.method == method && &*h.route == route;
        if let Some(found) = self.routes.read().iter().find(matches) {
            return found.clone();
        }
        let handles = Arc::new(RouteHandles {
            method,
            route: route.into(),
            requests: metrics.requests.with(&[method, route]),
            in_progress: metrics.in_progress.with(&[method, route]),
            request_size: metrics.request_size.with(&[method, route]),
            statuses: RwLock::new(Vec::new()),
        });
        let mut routes = self.routes.write();
        // Another request may have added it meanwhile.
        if let Some(found) = routes.iter().find(matches) {
            return found.clone();
        }
        if routes.len() < MAX_ROUTES {
            routes.push(handles.clone());
        }
        handles
    }
}

impl RouteHandles {
    /// The handles for `status`, cached when there is room.
    pub(crate) fn status(&self, metrics: &HttpMetrics, status: StatusCode) -> Arc<StatusHandles> {
        if let Some(found) = self.statuses.read().iter().find(|h| h.status == status) {
            return found.clone();
        }
        let labels = [self.method, &*self.route, status.as_str()];
        let handles = Arc::new(StatusHandles {
            status,
            responses: metrics.responses.with(&labels),
            duration: metrics.duration.with(&labels),
            response_size: metrics.response_size.with(&labels),
        });
        let mut statuses = self.statuses.write();
        if let Some(found) = statuses.iter().find(|h| h.status == status) {
            return found.clone();
        }
        if statuses.len() < MAX_STATUSES {
            statuses.push(handles.clone());
        }
        handles
    }

    /// The route label.
    pub(crate) fn route(&self) -> &str {
        &self.route
    }

    /// The method label.
    pub(crate) fn method(&self) -> &'static str {
        self.method
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Registry;

    #[test]
    fn handles_are_shared_with_the_families_and_bounded() {
        let registry = Registry::new();
        let metrics = HttpMetrics::register(&registry).unwrap();
        let cache = RouteCache::default();
        let a = cache.route(&metrics, "GET", "/items/{id}");
        let b = cache.route(&metrics, "GET", "/items/{id}");
        assert!(Arc::ptr_eq(&a, &b), "cached");
        a.requests.inc();
        b.requests.inc();
        assert_eq!(
            metrics.requests.with(&["GET", "/items/{id}"]).get(),
            2.0,
            "the cached handle is the family's value"
        );
        let other = cache.route(&metrics, "POST", "/items/{id}");
        assert!(!Arc::ptr_eq(&a, &other));

        let ok = a.status(&metrics, StatusCode::OK);
        assert!(Arc::ptr_eq(&ok, &a.status(&metrics, StatusCode::OK)));
        ok.duration.observe(0.5);
        assert_eq!(
            metrics
                .duration
                .with(&["GET", "/items/{id}", "200"])
                .count(),
            1
        );

        // Past the bound: still the right values, only not kept.
        for i in 0..MAX_ROUTES + 3 {
            let route = format!("/r{i}");
            cache.route(&metrics, "GET", &route).requests.inc();
        }
        assert_eq!(cache.routes.read().len(), MAX_ROUTES);
        assert_eq!(metrics.requests.with(&["GET", "/r10"]).get(), 1.0);
        for code in 500..520 {
            let code = StatusCode::from_u16(code).unwrap();
            a.status(&metrics, code).responses.inc();
        }
        assert_eq!(a.statuses.read().len(), MAX_STATUSES);
        assert_eq!(
            metrics.responses.with(&["GET", "/items/{id}", "519"]).get(),
            1.0
        );
    }
}
