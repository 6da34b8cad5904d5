//! Whether the log filter would enable a span or event the crate replaces by its own record
//! (the request's SERVER span, an outgoing call's CLIENT span, the access line).
//!
//! `tracing::span_enabled!` and `event_enabled!` answer that, but ask the dispatcher on every
//! call, even when every dispatcher has already told the callsite it is always interested: a
//! filter evaluation (and the code it touches) per request. [`filter_enabled!`] reads the
//! callsite's cached interest first and asks the dispatcher only when that is "sometimes", as
//! `tracing`'s own span and event macros do.

use tracing_core::callsite::DefaultCallsite;

/// `filter_enabled!(SPAN, target: T, Level::INFO)` answers as
/// `tracing::span_enabled!(target: T, Level::INFO)` (`EVENT`: as `event_enabled!`), from the
/// callsite's cached interest when the dispatchers agree.
macro_rules! filter_enabled {
    ($kind:ident, target: $target:expr, $level:expr) => {{
        static META: tracing_core::Metadata<'static> = tracing_core::Metadata::new(
            concat!("enabled ", file!(), ":", line!()),
            $target,
            $level,
            Some(file!()),
            Some(line!()),
            Some(module_path!()),
            tracing_core::field::FieldSet::new(&[], tracing_core::identify_callsite!(&CALLSITE)),
            tracing_core::metadata::Kind::$kind.hint(),
        );
        static CALLSITE: tracing_core::callsite::DefaultCallsite =
            tracing_core::callsite::DefaultCallsite::new(&META);
        tracing::level_enabled!($level) && $crate::trace::enabled::callsite_enabled(&CALLSITE)
    }};
}
pub(crate) use filter_enabled;

/// Whether `callsite` is enabled: never or always by the dispatchers' cached interest (the
/// first call registers the callsite), else as the current dispatcher decides.
pub(crate) fn callsite_enabled(callsite: &'static DefaultCallsite) -> bool {
    let interest = callsite.interest();
    if interest.is_always() {
        true
    } else if interest.is_never() {
        false
    } else {
        let metadata = tracing_core::Callsite::metadata(callsite);
        tracing::dispatcher::get_default(|dispatch| dispatch.enabled(metadata))
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::layer::SubscriberExt;

    use tracing::Level;

    /// Whether an INFO span and a WARN event are enabled, by `filter_enabled!` and by
    /// `tracing`'s macros, under `filter`.
    fn enabled_under(filter: &str) -> [(bool, bool); 2] {
        let subscriber =
            tracing_subscriber::registry().with(tracing_subscriber::EnvFilter::new(filter));
        tracing::subscriber::with_default(subscriber, || {
            [
                (
                    super::filter_enabled!(SPAN, target: "instrument::a", Level::INFO),
                    tracing::span_enabled!(target: "instrument::a", Level::INFO),
                ),
                (
                    super::filter_enabled!(EVENT, target: "instrument::a", Level::WARN),
                    tracing::event_enabled!(target: "instrument::a", Level::WARN),
                ),
            ]
        })
    }

    #[test]
    fn answers_as_span_enabled_does() {
        // Static directives (interest cached as always or never by one dispatcher), a
        // directive on another target, and one on span fields (a dynamic filter, whose
        // callsites are asked each time).
        for filter in [
            "info",
            "warn",
            "error",
            "off",
            "other=info",
            "instrument::a=info,warn",
            "[{x}]=info,warn",
        ] {
            for (ours, theirs) in enabled_under(filter) {
                assert_eq!(ours, theirs, "filter {filter:?}");
            }
        }
        assert_eq!(enabled_under("info"), [(true, true), (true, true)]);
        assert_eq!(enabled_under("warn"), [(false, false), (true, true)]);
        assert_eq!(enabled_under("error"), [(false, false), (false, false)]);
        let off = tracing::subscriber::with_default(
            tracing_subscriber::registry().with(LevelFilter::OFF),
            || super::filter_enabled!(EVENT, target: "instrument::a", Level::ERROR),
        );
        assert!(!off);
    }
}
