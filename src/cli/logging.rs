//! The tracing filter `main` installs: `SOHOA_LOG` (EnvFilter syntax), else
//! warnings only. PostgreSQL's client crates are capped at `info` whatever it
//! says, because at `debug` tokio_postgres logs every statement with its
//! parameters, and those include station token digests.

use tracing_subscriber::EnvFilter;

/// Client crates whose debug logs carry statement parameters.
const CAPPED: [&str; 2] = ["tokio_postgres", "postgres"];

/// The filter for `SOHOA_LOG` = `user`; one that does not parse gives the
/// default (as an unset variable does).
pub fn env_filter(user: Option<&str>) -> EnvFilter {
    EnvFilter::try_new(log_filter(user)).unwrap_or_else(|_| EnvFilter::new(log_filter(None)))
}

/// The filter directives for `SOHOA_LOG` = `user`. A directive of the user's
/// naming a capped crate (or a module in it) more verbosely than `info` is
/// lowered to `info`; then `<crate>=info` follows the user's directives for
/// each capped crate they did not set themselves, so it wins over a global
/// `debug` (a target directive is more specific).
pub fn log_filter(user: Option<&str>) -> String {
    let user = user
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or("warn");
    let mut directives: Vec<String> = user
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(cap)
        .collect();
    for c in CAPPED {
        let set = directives.iter().any(|d| target(d) == c);
        if !set {
            directives.push(format!("{c}=info"));
        }
    }
    directives.join(",")
}

/// A directive's target: what comes before its span filter or level.
fn target(directive: &str) -> &str {
    &directive[..directive.find(['[', '=']).unwrap_or(directive.len())]
}

/// One directive, as `target=info` when it names a capped target at a more
/// verbose level, with no level (= every level) or with a span or field
/// filter (which is dropped with it).
fn cap(directive: &str) -> String {
    let target = target(directive);
    let capped = CAPPED
        .iter()
        .any(|c| target == *c || target.strip_prefix(c).is_some_and(|r| r.starts_with("::")));
    let quiet = !directive.contains('[')
        && directive.split_once('=').is_some_and(|(_, level)| {
            // EnvFilter takes names and numbers, in any case.
            matches!(
                level.trim().to_ascii_lowercase().as_str(),
                "off" | "error" | "warn" | "info" | "0" | "1" | "2" | "3"
            )
        });
    if capped && !quiet {
        format!("{target}=info")
    } else {
        directive.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{env_filter, log_filter};
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    #[test]
    fn postgres_crates_are_capped_at_info() {
        let f = |u| log_filter(Some(u));
        assert_eq!(f("debug"), "debug,tokio_postgres=info,postgres=info");
        assert_eq!(
            f("sohoa=trace,tokio_postgres::query=debug,postgres=TRACE"),
            "sohoa=trace,tokio_postgres::query=info,postgres=info,tokio_postgres=info"
        );
        assert_eq!(f("tokio_postgres"), "tokio_postgres=info,postgres=info");
        assert_eq!(
            f("tokio_postgres[query]=warn"),
            "tokio_postgres=info,postgres=info"
        );
    }

    #[test]
    fn what_is_not_more_verbose_postgres_is_left_as_written() {
        assert_eq!(log_filter(None), "warn,tokio_postgres=info,postgres=info");
        assert_eq!(
            log_filter(Some(" ")),
            "warn,tokio_postgres=info,postgres=info"
        );
        assert_eq!(
            log_filter(Some("postgres_like=debug, tokio_postgres=warn")),
            "postgres_like=debug,tokio_postgres=warn,postgres=info"
        );
    }

    /// Records the targets of the events a filter lets through.
    struct Seen(Arc<Mutex<Vec<String>>>);
    impl<S: tracing::Subscriber> Layer<S> for Seen {
        fn on_event(&self, e: &tracing::Event<'_>, _: Context<'_, S>) {
            let target = e.metadata().target().to_string();
            self.0.lock().unwrap().push(target);
        }
    }

    #[test]
    fn sohoa_log_debug_does_not_log_statement_parameters() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(env_filter(Some("debug")))
            .with(Seen(Arc::clone(&seen)));
        tracing::subscriber::with_default(subscriber, || {
            // What tokio_postgres::query logs for every statement.
            tracing::debug!(target: "tokio_postgres::query", "executing statement s0 with parameters: [\"ab12…\"]");
            tracing::debug!(target: "postgres::client", "debug");
            tracing::info!(target: "tokio_postgres::connection", "info");
            tracing::debug!(target: "sohoa::pipeline", "debug");
        });
        assert_eq!(
            *seen.lock().unwrap(),
            ["tokio_postgres::connection", "sohoa::pipeline"]
        );
    }

    #[test]
    fn a_filter_that_does_not_parse_gives_the_default() {
        assert_eq!(
            env_filter(Some("sohoa=loud")).to_string(),
            env_filter(None).to_string()
        );
    }
}
