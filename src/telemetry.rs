//! Logging, set up once. mend's own log lines carry ids, never answer text,
//! tokens or keys; the libraries beneath it log raw Discord payloads and HTTP
//! bodies at debug and trace, so they are capped whatever `MEND_LOG` asks for.

use tracing_subscriber::EnvFilter;

/// Targets whose verbose levels would print what people wrote (gateway events,
/// interaction payloads, request bodies) or credentials.
const CAPPED: [&str; 10] =
    ["serenity", "poise", "reqwest", "hyper", "hyper_util", "h2", "rustls", "tungstenite", "tokio_tungstenite", "sqlx"];

/// The filter for `requested` (EnvFilter syntax, e.g. `info` or `mend=debug`),
/// with the capped targets held at `info` (`warn` for sqlx, which would log
/// statements).
pub fn filter(requested: &str) -> EnvFilter {
    let kept: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter(|d| !CAPPED.iter().any(|t| d.starts_with(t)))
        .collect();
    let mut directives =
        if kept.is_empty() { vec!["warn".to_string()] } else { kept.iter().map(|d| d.to_string()).collect() };
    directives.extend(CAPPED.iter().map(|t| format!("{t}={}", if *t == "sqlx" { "warn" } else { "info" })));
    EnvFilter::try_new(directives.join(",")).unwrap_or_else(|_| EnvFilter::new("warn"))
}

/// Installs the subscriber for the `mend` binary: `MEND_LOG`, default `warn`.
pub fn init() {
    let requested = std::env::var("MEND_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt().with_env_filter(filter(&requested)).with_writer(std::io::stderr).init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_library_logs_stay_capped() {
        let f = filter("trace,serenity=trace").to_string();
        assert!(f.contains("serenity=info") && !f.contains("serenity=trace"), "{f}");
        assert!(f.contains("sqlx=warn"));
        assert!(filter("not a filter ((").to_string().contains("warn"));
    }
}
