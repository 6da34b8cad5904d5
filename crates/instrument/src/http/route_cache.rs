//! The metric handles of one route, resolved once and kept with the route's middleware.
//!
//! `Router::layer` wraps every route (and every method of it) in its own middleware instance,
//! so each instance sees one route, one method and a few status codes. Caching their handles
//! there turns the six label-set lookups of a response (hash the label values, lock the
//! family, clone its value) into a short scan of a handful of entries, kept in fixed slots
//! filled once each, so that reading them takes no lock and no reference count.
//!
//! Both lists are bounded; past the bounds the handles are looked up in the families as
//! without a cache, so a route answering many different statuses costs more but never grows
//! memory.

use super::red::HttpMetrics;
use crate::metrics::{Counter, Gauge, Histogram};
use axum::http::StatusCode;
use parking_lot::Mutex;
use std::ops::Deref;
use std::sync::OnceLock;

/// Most (method, route) pairs cached per middleware instance: one, unless the router nests a
/// service that serves several routes.
pub(crate) const MAX_ROUTES: usize = 8;
/// Most status codes cached per (method, route).
pub(crate) const MAX_STATUSES: usize = 16;

/// Fixed slots filled once each: reading is a scan of plain loads, no lock and no reference
/// count; only filling a slot takes the lock.
struct Slots<T, const N: usize> {
    slots: [OnceLock<T>; N],
    filling: Mutex<()>,
}

impl<T, const N: usize> Default for Slots<T, N> {
    fn default() -> Self {
        Slots {
            slots: std::array::from_fn(|_| OnceLock::new()),
            filling: Mutex::new(()),
        }
    }
}

/// A cached handle, or one built for a single use when the cache is full.
pub(crate) enum Cached<'a, T> {
    Kept(&'a T),
    Once(Box<T>),
}

impl<T> Deref for Cached<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Cached::Kept(t) => t,
            Cached::Once(t) => t,
        }
    }
}

impl<T, const N: usize> Slots<T, N> {
    /// The first entry `matches` accepts, and its slot.
    fn find(&self, matches: &impl Fn(&T) -> bool) -> Option<(usize, &T)> {
        // Slots fill in order: the first empty one ends the scan.
        self.slots
            .iter()
            .map_while(OnceLock::get)
            .enumerate()
            .find(|(_, t)| matches(t))
    }

    /// The entry `matches` accepts, added by `make` when there is none, and its slot when it is
    /// kept.
    fn get_or_add(
        &self,
        matches: impl Fn(&T) -> bool,
        make: impl FnOnce() -> T,
    ) -> (Cached<'_, T>, Option<usize>) {
        if let Some((slot, found)) = self.find(&matches) {
            return (Cached::Kept(found), Some(slot));
        }
        let _filling = self.filling.lock();
        // Another request may have added it meanwhile.
        if let Some((slot, found)) = self.find(&matches) {
            return (Cached::Kept(found), Some(slot));
        }
        let value = make();
        match self.slots.iter().position(|s| s.get().is_none()) {
            Some(slot) => (
                Cached::Kept(self.slots[slot].get_or_init(|| value)),
                Some(slot),
            ),
            None => (Cached::Once(Box::new(value)), None),
        }
    }

    /// The entry kept in `slot`.
    fn at(&self, slot: usize) -> Option<&T> {
        self.slots.get(slot)?.get()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.iter().map_while(OnceLock::get).count()
    }
}

/// The cache of one middleware instance.
#[derive(Default)]
pub(crate) struct RouteCache {
    routes: Slots<RouteHandles, MAX_ROUTES>,
}

/// The handles of the metrics labelled by method and route.
pub(crate) struct RouteHandles {
    method: &'static str,
    route: Box<str>,
    pub(crate) requests: Counter,
    pub(crate) in_progress: Gauge,
    pub(crate) request_size: Histogram,
    statuses: Slots<StatusHandles, MAX_STATUSES>,
}

/// The handles of the metrics labelled by method, route and status code.
pub(crate) struct StatusHandles {
    status: StatusCode,
    pub(crate) responses: Counter,
    pub(crate) duration: Histogram,
    pub(crate) response_size: Histogram,
}

/// Where a request's route handles were found in its [`RouteCache`], so that the end of the
/// request finds them again without comparing labels.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RouteSlot(Option<usize>);

impl RouteCache {
    /// The handles of `method` and `route`, cached when there is room, and where.
    pub(crate) fn route(
        &self,
        metrics: &HttpMetrics,
        method: &'static str,
        route: &str,
    ) -> (Cached<'_, RouteHandles>, RouteSlot) {
        let (handles, slot) = self.routes.get_or_add(
            |h| h.method == method && &*h.route == route,
            || RouteHandles {
                method,
                route: route.into(),
                requests: metrics.requests.with(&[method, route]),
                in_progress: metrics.in_progress.with(&[method, route]),
                request_size: metrics.request_size.with(&[method, route]),
                statuses: Slots::default(),
            },
        );
        (handles, RouteSlot(slot))
    }

    /// The handles [`RouteCache::route`] gave for the same `method` and `route` with `slot`.
    pub(crate) fn route_again(
        &self,
        slot: RouteSlot,
        metrics: &HttpMetrics,
        method: &'static str,
        route: &str,
    ) -> Cached<'_, RouteHandles> {
        match slot.0.and_then(|slot| self.routes.at(slot)) {
            Some(handles) => Cached::Kept(handles),
            None => self.route(metrics, method, route).0,
        }
    }
}

impl RouteHandles {
    /// The handles for `status`, cached when there is room.
    pub(crate) fn status(
        &self,
        metrics: &HttpMetrics,
        status: StatusCode,
    ) -> Cached<'_, StatusHandles> {
        let (handles, _) = self.statuses.get_or_add(
            |h| h.status == status,
            || {
                let labels = [self.method, &*self.route, status.as_str()];
                StatusHandles {
                    status,
                    responses: metrics.responses.with(&labels),
                    duration: metrics.duration.with(&labels),
                    response_size: metrics.response_size.with(&labels),
                }
            },
        );
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
        let (a, slot) = cache.route(&metrics, "GET", "/items/{id}");
        let (b, _) = cache.route(&metrics, "GET", "/items/{id}");
        assert!(std::ptr::eq(&*a, &*b), "cached");
        let again = cache.route_again(slot, &metrics, "GET", "/items/{id}");
        assert!(std::ptr::eq(&*a, &*again), "found again by its slot");
        a.requests.inc();
        b.requests.inc();
        assert_eq!(
            metrics.requests.with(&["GET", "/items/{id}"]).get(),
            2.0,
            "the cached handle is the family's value"
        );
        let (other, other_slot) = cache.route(&metrics, "POST", "/items/{id}");
        assert!(!std::ptr::eq(&*a, &*other));
        assert!(std::ptr::eq(
            &*other,
            &*cache.route_again(other_slot, &metrics, "POST", "/items/{id}")
        ));

        let ok = a.status(&metrics, StatusCode::OK);
        assert!(std::ptr::eq(&*ok, &*a.status(&metrics, StatusCode::OK)));
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
            let (handles, slot) = cache.route(&metrics, "GET", &route);
            handles.requests.inc();
            // Not kept: found again by its labels.
            cache
                .route_again(slot, &metrics, "GET", &route)
                .requests
                .inc();
        }
        assert_eq!(cache.routes.len(), MAX_ROUTES);
        assert_eq!(metrics.requests.with(&["GET", "/r10"]).get(), 2.0);
        for code in 500..520 {
            let code = StatusCode::from_u16(code).unwrap();
            a.status(&metrics, code).responses.inc();
        }
        assert_eq!(a.statuses.len(), MAX_STATUSES);
        assert_eq!(
            metrics.responses.with(&["GET", "/items/{id}", "519"]).get(),
            1.0
        );
    }
}
