//! Per-replica values: the `TETRAD_*` variables every replica gets, and their `${NAME}`
//! references expanded in a service's arguments and environment values.
//!
//! A spec is per service, but some settings must differ per replica (an OpenTelemetry
//! `service.instance.id`, a port passed as an argument, as `python3 -m http.server` wants).
//! There is no shell in between to expand variables, so the supervisor expands exactly these
//! names itself; any other `${...}` is left as written.

use std::borrow::Cow;

/// The project name.
pub const VAR_PROJECT: &str = "TETRAD_PROJECT";
/// The service name.
pub const VAR_SERVICE: &str = "TETRAD_SERVICE";
/// The instance name, `<service>-<n>`.
pub const VAR_INSTANCE: &str = "TETRAD_INSTANCE";
/// The replica number, from 1.
pub const VAR_REPLICA: &str = "TETRAD_REPLICA";
/// The replica's port, when the service has a `port`.
pub const VAR_PORT: &str = "TETRAD_PORT";

/// The values of the per-replica variables for one replica.
pub(crate) struct ReplicaVars {
    pairs: Vec<(&'static str, String)>,
}

impl ReplicaVars {
    pub fn new(
        project: &str,
        service: &str,
        instance: &str,
        replica: u32,
        port: Option<u16>,
    ) -> Self {
        let mut pairs = vec![
            (VAR_PROJECT, project.to_string()),
            (VAR_SERVICE, service.to_string()),
            (VAR_INSTANCE, instance.to_string()),
            (VAR_REPLICA, replica.to_string()),
        ];
        if let Some(port) = port {
            pairs.push((VAR_PORT, port.to_string()));
        }
        ReplicaVars { pairs }
    }

    /// The variables as environment entries.
    pub fn env(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.pairs.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// `text` with every `${NAME}` of a known variable replaced by its value.
    pub fn expand<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !text.contains("${TETRAD_") {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for (name, value) in &self.pairs {
            out = out.replace(&format!("${{{name}}}"), value);
        }
        Cow::Owned(out)
    }
}

/// Whether `text` refers to `${TETRAD_PORT}` (an error for a service without a port).
pub(crate) fn uses_port(text: &str) -> bool {
    text.contains(&format!("${{{VAR_PORT}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_expand_others_stay() {
        let vars = ReplicaVars::new("dev", "web", "web-2", 2, Some(8001));
        assert_eq!(
            vars.expand("service.instance.id=${TETRAD_INSTANCE},n=${TETRAD_REPLICA}"),
            "service.instance.id=web-2,n=2"
        );
        assert_eq!(vars.expand("${TETRAD_PORT}"), "8001");
        assert_eq!(
            vars.expand("${HOME} $TETRAD_INSTANCE"),
            "${HOME} $TETRAD_INSTANCE"
        );
        assert_eq!(vars.expand("${TETRAD_NOPE}"), "${TETRAD_NOPE}");
    }

    #[test]
    fn port_only_with_a_port() {
        let vars = ReplicaVars::new("dev", "web", "web-1", 1, None);
        assert!(vars.env().all(|(k, _)| k != VAR_PORT));
        assert_eq!(vars.expand("${TETRAD_PORT}"), "${TETRAD_PORT}");
        assert!(uses_port("x=${TETRAD_PORT}"));
        assert!(!uses_port("x=$TETRAD_PORT"));
    }
}
