//! How every Latchkey program logs: to stderr, filtered by `LATCHKEY_LOG` (e.g. `debug`,
//! `latchkey_core=trace`), warnings and errors only by default; colours only on a terminal,
//! so log files stay plain text.

/// Sets up logging for this process; call once, first thing in `main`.
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
