//! What the API integration tests share: an `ApiState` over any store.

#![allow(dead_code)]

use api::{ApiLimits, ApiState, BuildInfo};
use std::sync::Arc;
use tsdb::Appendable;
use tsdb::interface::{ExemplarQueryable, MetadataQueryable};

/// The build facts the tests see.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: "0.1.0".into(),
        revision: "r".into(),
        branch: "main".into(),
        build_user: "u".into(),
        build_date: "d".into(),
        go_version: "rust".into(),
    }
}

/// An `ApiState` whose every store seam is `store`, with default limits.
pub fn state_over<S>(store: Arc<S>) -> ApiState
where
    S: tsdb::Queryable + Appendable + ExemplarQueryable + MetadataQueryable + 'static,
{
    ApiState::new(
        promql::Engine::default(),
        store.clone(),
        store.clone(),
        store.clone(),
        store,
        build_info(),
        ApiLimits::default(),
        Arc::new(api::self_metrics::Registry::new()),
    )
}
