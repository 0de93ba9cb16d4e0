//! The TypeScript types of everything that crosses into the UI, generated from the Rust
//! types (ts-rs) into `ui/src/bindings/`. The generated files are committed; a test fails
//! when they drift from the Rust types. Regenerate with
//! `LATCHKEY_WRITE_BINDINGS=1 cargo test -p latchkey-app bindings`.

use crate::api;
use latchkey_core::usecase::{
    Dashboard, Diagnosis, Overall, Overview, PasteOutcome, Preset, ServerHealth, SessionEvent,
    SignInMethod, SignInPlan,
};
use std::path::Path;
use ts_rs::{Config, ExportError, TS};

/// Writes every type the UI uses (and the types they refer to) into `dir`.
pub fn export(dir: &Path) -> Result<(), ExportError> {
    // u64 timestamps and counts fit in a JavaScript number.
    let cfg = Config::new().with_out_dir(dir).with_large_int("number");
    Dashboard::export_all(&cfg)?;
    Overall::export_all(&cfg)?;
    Overview::export_all(&cfg)?;
    ServerHealth::export_all(&cfg)?;
    SignInPlan::export_all(&cfg)?;
    Diagnosis::export_all(&cfg)?;
    SessionEvent::export_all(&cfg)?;
    Preset::export_all(&cfg)?;
    SignInMethod::export_all(&cfg)?;
    PasteOutcome::export_all(&cfg)?;
    api::AppError::export_all(&cfg)?;
    api::ExportedDiagnostics::export_all(&cfg)?;
    api::ClientInput::export_all(&cfg)?;
    api::ProviderClientInput::export_all(&cfg)?;
    api::RedirectUri::export_all(&cfg)?;
    api::PlanView::export_all(&cfg)?;
    api::ScopeEdit::export_all(&cfg)?;
    api::SignInProgress::export_all(&cfg)?;
    api::SignInResult::export_all(&cfg)?;
    api::HandoffResult::export_all(&cfg)?;
    api::ToolChoice::export_all(&cfg)?;
    api::ConnectResult::export_all(&cfg)?;
    api::OpenServer::export_all(&cfg)?;
    api::Settings::export_all(&cfg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ts") {
                out.insert(name, std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }

    #[test]
    fn committed_bindings_match_the_rust_types() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings");
        let fresh = std::env::temp_dir().join(format!("latchkey-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        export(&fresh).expect("export the bindings");
        if std::env::var_os("LATCHKEY_WRITE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            std::fs::create_dir_all(&committed).unwrap();
            for (name, text) in read_dir(&fresh) {
                std::fs::write(committed.join(name), text).unwrap();
            }
        }
        let (want, have) = (read_dir(&fresh), read_dir(&committed));
        let _ = std::fs::remove_dir_all(&fresh);
        let stale: Vec<&String> = want
            .keys()
            .chain(have.keys())
            .filter(|k| want.get(*k) != have.get(*k))
            .collect();
        assert!(
            stale.is_empty(),
            "ui/src/bindings/ is out of date with the Rust types ({stale:?}); regenerate with \
             LATCHKEY_WRITE_BINDINGS=1 cargo test -p latchkey-app bindings"
        );
    }
}
