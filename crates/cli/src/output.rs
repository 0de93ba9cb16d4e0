//! Everything the command line prints: plain words for people, JSON for programs.
//! Nothing here prints a token, code, verifier or secret.

use latchkey_core::clock::now;
use latchkey_core::usecase::{
    no_renewal_notice, redirect_uri, sign_in_reason, AsSource, Challenged, ClientChoice,
    CredentialBundle, ErrorReport, PkceChoice, PkceS256, RegistrationMethod, ServerInfo, Severity,
    SignInEvent, SignInPlan, ToolInfo,
};
use latchkey_core::Error;
use serde_json::json;

fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

pub fn error(e: &Error, json: bool) {
    if json {
        print_json(&json!({ "ok": false, "error": ErrorReport::from(e) }));
    } else {
        eprintln!("latchkey: {e}.");
        eprintln!("What to do: {}", e.hint());
    }
}

/// One line, for helpers whose caller shows only the first line of stderr.
pub fn error_line(e: &Error) {
    eprintln!("latchkey: {e}. {}", e.hint());
}

pub fn list(bundles: &[Result<CredentialBundle, (String, Error)>], json: bool) {
    if json {
        let items: Vec<serde_json::Value> = bundles
            .iter()
            .map(|b| match b {
                Ok(b) => {
                    let mut v = bundle_json(b);
                    v["names"] = json!(b.names);
                    v["needs_sign_in"] = json!(b.needs_sign_in.as_ref().map(sign_in_reason));
                    v
                }
                Err((id, e)) => json!({ "server_id": id, "error": ErrorReport::from(e) }),
            })
            .collect();
        let ok = bundles.iter().all(Result::is_ok);
        print_json(&json!({ "ok": ok, "servers": items }));
        return;
    }
    if bundles.is_empty() {
        println!("No servers are signed in yet. Start with: latchkey login URL");
        return;
    }
    for b in bundles {
        match b {
            Ok(b) => {
                let names = if b.names.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", b.names.join(", "))
                };
                println!("{}{names}", b.server_url);
                match &b.needs_sign_in {
                    Some(n) => println!("  needs sign-in: {}", sign_in_reason(n)),
                    None => println!(
                        "  token {}{}",
                        expiry_words(b.tokens.expires_at),
                        if b.tokens.refresh_token.is_some() {
                            ", renewable"
                        } else {
                            ", not renewable"
                        }
                    ),
                }
                println!(
                    "  scopes: {}",
                    if b.tokens.scopes.is_empty() {
                        "(none reported)".to_string()
                    } else {
                        b.tokens.scopes.join(" ")
                    }
                );
            }
            Err((id, e)) => println!(
                "{id}
  cannot be read: {e}"
            ),
        }
    }
}

pub fn logged_out(out: &latchkey_core::usecase::SignedOut, json: bool) {
    let (b, revoked) = (&out.bundle, &out.revoked);
    if json {
        print_json(&json!({
            "ok": true,
            "server": b.server_url,
            "revoked": matches!(revoked, Ok(true)),
            "revocation_error": revoked.as_ref().err().map(ErrorReport::from),
            "withdrawn_from": out.withdrawn,
            "kept_by": out.kept_by,
        }));
        return;
    }
    print_signed_out(b, revoked);
    if let Some(note) = out.tools_note() {
        println!("{note}");
    }
}

fn print_signed_out(b: &CredentialBundle, revoked: &Result<bool, Error>) {
    match revoked {
        Ok(true) => println!("Signed out of {}: the sign-in server ended the session, and Latchkey forgot it.", b.server_url),
        Ok(false) => println!("Signed out of {}: Latchkey forgot the session (the sign-in server offers no way to end it early, so the token stays valid until it expires).", b.server_url),
        Err(e) => println!("Signed out of {} locally, but the sign-in server could not end the session ({e}); the token stays valid until it expires.", b.server_url),
    }
}

fn client_words(plan: &SignInPlan) -> String {
    match &plan.client {
        ClientChoice::PreRegistered {
            client_id,
            auth_method,
            has_secret,
        } => format!(
            "your registered client {client_id} ({}{})",
            auth_method.as_str(),
            if *has_secret { ", with its secret" } else { "" }
        ),
        ClientChoice::MetadataDocument { client_id } => {
            format!("the client metadata document {client_id}")
        }
        ClientChoice::Dynamic { .. } => {
            "Latchkey registers itself with the sign-in server (dynamic client registration)".into()
        }
        ClientChoice::Missing => {
            "none available: the sign-in server does not let apps register themselves".into()
        }
    }
}

fn callback_words(plan: &SignInPlan) -> String {
    match plan.callback_port {
        Some(p) => redirect_uri(p),
        None => "http://127.0.0.1:<a free port>/callback".into(),
    }
}

pub fn plan(plan: &SignInPlan, json: bool) {
    if json {
        print_json(&json!({ "ok": true, "plan": plan }));
        return;
    }
    let d = &plan.discovery;
    println!("Server       {}", plan.server_url);
    println!("Resource     {}", plan.resource);
    println!(
        "Sign-in at   {}  ({})",
        plan.issuer,
        match d.as_source {
            AsSource::ResourceMetadata => "named by the server's metadata",
            AsSource::LegacyOrigin => "the server's own address: it publishes no metadata",
        }
    );
    println!();
    println!("How Latchkey found out:");
    for (i, s) in d.steps.iter().enumerate() {
        println!("  {}. {}: {}", i + 1, s.action, s.outcome);
        if let Some(u) = &s.url {
            println!("     {u}");
        }
    }
    println!();
    println!("Scopes to ask for. {}", plan.scope_basis_words());
    if plan.scopes.is_empty() {
        println!("  (none: no scope parameter is sent)");
    }
    let width = plan.scopes.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &plan.scopes {
        println!(
            "  {:width$}  {}{}",
            s.name,
            s.source.describe(),
            if s.flag.is_some() { "  [flagged]" } else { "" }
        );
    }
    let others: Vec<_> = plan.catalogue.iter().filter(|c| !c.requested).collect();
    if !others.is_empty() {
        println!();
        println!(
            "The sign-in server offers {} more scopes. None is asked for unless you add it (--add-scope NAME):",
            others.len()
        );
        let names: Vec<&str> = others.iter().map(|c| c.name.as_str()).collect();
        for line in wrap(&names, 76) {
            println!("  {line}");
        }
        let flagged: Vec<_> = others.iter().filter(|c| c.flag.is_some()).collect();
        if !flagged.is_empty() {
            println!("  Be careful with:");
            for c in flagged {
                if let Some(f) = &c.flag {
                    println!("  ! {}: {}", c.name, f.explanation);
                }
            }
        }
    }
    println!();
    println!("App identity   {}", client_words(plan));
    println!("Callback       {}", callback_words(plan));
    println!("PKCE           {}", pkce_words(&plan.pkce));
    for p in &plan.extra_params {
        println!(
            "Also sends     {}={}{}: {}",
            p.name,
            p.value,
            if p.only_without_refresh_token {
                " (when no refresh token is stored)"
            } else {
                ""
            },
            p.why
        );
    }
    for p in &plan.problems {
        let mark = match p.severity {
            Severity::Blocking => "Cannot sign in yet",
            Severity::Warning => "Note",
        };
        println!("{mark}: {}", p.message);
    }
    if plan.blocking_problems().is_empty() {
        println!();
        println!("Next: latchkey login {}", plan.server_url);
    }
}

fn pkce_words(pkce: &PkceS256) -> String {
    match pkce {
        PkceS256::Advertised => "S256, as the sign-in server's metadata lists".into(),
        PkceS256::KnownIssuer { provider } => {
            format!("S256, assumed: {provider} accepts it without listing it")
        }
        PkceS256::ChosenByYou => "S256, assumed at this sign-in server because you chose so".into(),
        PkceS256::NeedsConfirmation => {
            "not listed by the sign-in server: confirm with --assume-pkce-s256".into()
        }
    }
}

/// The remembered PKCE choices, after forgetting one when asked.
pub fn assumed_pkce(choices: &[PkceChoice], forgotten: Option<(&str, bool)>, json: bool) {
    if json {
        print_json(&json!({
            "ok": true,
            "assume_pkce_s256": choices,
            "forgotten": forgotten.map(|(_, f)| f),
        }));
        return;
    }
    match forgotten {
        Some((issuer, true)) => {
            println!("Forgot {issuer}: its next sign-in asks again before assuming PKCE with S256.")
        }
        Some((issuer, false)) => println!("There was no choice for {issuer}."),
        None => {}
    }
    if choices.is_empty() {
        println!("PKCE with S256 is assumed at no sign-in server by your choice.");
        return;
    }
    println!("PKCE with S256 is assumed, by your choice, at:");
    for c in choices {
        println!(
            "  {}  (since {})",
            c.issuer,
            latchkey_core::clock::utc_words(c.chosen_at)
        );
    }
    println!("Undo one with: latchkey assumed-pkce --forget ISSUER");
}

pub fn plan_summary(plan: &SignInPlan) {
    eprintln!("Signing in to {} at {}.", plan.server_url, plan.issuer);
    match plan.scope_param() {
        Some(s) => eprintln!("Asking for: {s}"),
        None => eprintln!("Asking for no particular scope (the sign-in server's default applies)."),
    }
    for p in &plan.problems {
        eprintln!("Note: {}", p.message);
    }
}

pub fn sign_in_event(e: &SignInEvent, json: bool) {
    if json {
        // Programs get the sign-in address on stderr too: it is the one thing they must act
        // on; and why the sign-in registers again, when it does.
        match e {
            SignInEvent::SignInPage {
                url, opened: false, ..
            } => eprintln!("{}", json!({ "event": "open_this", "url": url })),
            SignInEvent::RegisteringAgain {
                issuer,
                message,
                restarting,
            } => eprintln!(
                "{}",
                json!({ "event": "registering_again", "issuer": issuer, "message": message, "restarting": restarting })
            ),
            SignInEvent::Method {
                method,
                why,
                ssh_forward,
            } => eprintln!(
                "{}",
                json!({ "event": "method", "method": method, "why": why, "ssh_forward": ssh_forward })
            ),
            SignInEvent::DeviceCode {
                user_code,
                verification_uri,
                verification_uri_complete,
                expires_in_secs,
            } => eprintln!(
                "{}",
                json!({ "event": "device_code", "user_code": user_code,
                        "verification_uri": verification_uri,
                        "verification_uri_complete": verification_uri_complete,
                        "expires_in": expires_in_secs })
            ),
            _ => {}
        }
        return;
    }
    match e {
        SignInEvent::Listening { redirect_uri } => {
            eprintln!("Waiting for the sign-in answer at {redirect_uri}")
        }
        SignInEvent::ClientReady {
            client_id,
            method,
            reused,
        } => eprintln!(
            "App identity: {} ({client_id})",
            match (method, reused) {
                (RegistrationMethod::PreRegistered, _) => "your registered client",
                (RegistrationMethod::MetadataDocument, _) => "client metadata document",
                (RegistrationMethod::Dynamic, true) => "registered earlier at this sign-in server",
                (RegistrationMethod::Dynamic, false) => "registered just now",
            }
        ),
        SignInEvent::RegisteringAgain { message, .. } => eprintln!("{message}"),
        SignInEvent::SignInPage {
            url,
            opened,
            register_again,
        } => {
            if *opened {
                eprintln!("Opened the sign-in page in your browser. Finish signing in there.");
                eprintln!("If nothing opened, visit:\n  {url}");
            } else {
                eprintln!("Open this address in a browser to sign in:\n  {url}");
            }
            if let Some(advice) = register_again {
                eprintln!(
                    "{advice} Press Ctrl-C, then run the same command with --register-again."
                );
            }
        }
        SignInEvent::Method {
            method,
            why,
            ssh_forward,
        } => {
            eprintln!("The sign-in answer comes back {}. {why}.", method.words());
            if let Some(command) = ssh_forward {
                eprintln!(
                    "To have the browser's answer reach this machine by itself, run this on the computer with the browser (not here), before you open the address; it forwards the callback port to this machine:\n  {command}"
                );
            }
        }
        SignInEvent::Exchanging => eprintln!("Signed in at the sign-in server; fetching tokens..."),
        SignInEvent::DeviceCode {
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in_secs,
        } => {
            use std::io::IsTerminal;
            let qr = std::io::stderr().is_terminal().then(|| {
                device_qr(
                    verification_uri_complete
                        .as_deref()
                        .unwrap_or(verification_uri),
                )
            });
            eprint!(
                "{}",
                device_code_text(
                    user_code,
                    verification_uri,
                    verification_uri_complete.is_some(),
                    *expires_in_secs,
                    qr.flatten().as_deref(),
                )
            );
        }
    }
}

/// The QR code of the address to open on the other device, for the terminal.
fn device_qr(address: &str) -> Option<String> {
    latchkey_core::qr::terminal(address)
}

/// What the person reads to sign in on another device: the address, the code, the QR code
/// when there is one (only on a terminal: in a log or a pipe it is noise), how long the code
/// lasts. The addresses were checked by the engine; the code and addresses come from the
/// sign-in server, so every line goes through the terminal cleaning of `eprintln!`.
pub fn device_code_text(
    user_code: &str,
    verification_uri: &str,
    complete: bool,
    expires_in_secs: u64,
    qr: Option<&str>,
) -> String {
    let lasts = if expires_in_secs >= 120 {
        format!("about {} minutes", expires_in_secs.div_ceil(60))
    } else {
        format!("{expires_in_secs} seconds")
    };
    let mut t = format!(
        "To sign in, open this address on your phone or another computer:\n  {verification_uri}\nand enter the code:\n  {user_code}\n"
    );
    if let Some(qr) = qr {
        t.push_str(if complete {
            "Or scan this QR code (it opens the address with the code filled in):\n"
        } else {
            "Or scan this QR code to open the address:\n"
        });
        t.push_str(qr);
        if !qr.ends_with('\n') {
            t.push('\n');
        }
    }
    t.push_str(&format!(
        "The code is good for {lasts}. Waiting for you to approve the sign-in there (Ctrl-C stops)...\n"
    ));
    t
}

fn expiry_words(expires_at: Option<u64>) -> String {
    match expires_at {
        None => "no expiry given".into(),
        Some(t) => {
            let now = now();
            if t <= now {
                "expired".into()
            } else {
                let mins = (t - now) / 60;
                if mins >= 120 {
                    format!("valid for about {} hours", mins / 60)
                } else {
                    format!("valid for about {} minutes", mins.max(1))
                }
            }
        }
    }
}

pub fn bundle_json(b: &CredentialBundle) -> serde_json::Value {
    json!({
        "server": b.server_url,
        "server_id": b.server_id,
        "resource": b.resource,
        "issuer": b.issuer,
        "client_id": b.client.client_id,
        "client_registration": b.client.method,
        "requested_scopes": b.requested_scopes,
        "granted_scopes": b.tokens.scopes,
        "expires_at": b.tokens.expires_at,
        "has_refresh_token": b.tokens.refresh_token.is_some(),
    })
}

pub fn signed_in(b: &CredentialBundle, json: bool) {
    if json {
        print_json(&json!({
            "ok": true,
            "signed_in": bundle_json(b),
            "no_renewal_notice": no_renewal_notice(b, now()),
        }));
        return;
    }
    println!("Signed in to {}.", b.server_url);
    println!(
        "Granted: {}",
        if b.tokens.scopes.is_empty() {
            "(the sign-in server did not say)".to_string()
        } else {
            b.tokens.scopes.join(" ")
        }
    );
    match no_renewal_notice(b, now()) {
        None => println!(
            "Token {}; it can be renewed without signing in again.",
            expiry_words(b.tokens.expires_at)
        ),
        Some(notice) => println!("{notice}"),
    }
    println!(
        "Stored in your keychain. Try: latchkey check {}",
        b.server_url
    );
}

pub fn checked(b: &CredentialBundle, info: &ServerInfo, tools: &[ToolInfo], json: bool) {
    if json {
        print_json(&json!({
            "ok": true,
            "server": bundle_json(b),
            "server_info": info,
            "tools": tools,
        }));
        return;
    }
    println!(
        "Connected to {} {} (MCP {}) as signed in; token {}.",
        info.name,
        info.version,
        info.protocol_version,
        expiry_words(b.tokens.expires_at)
    );
    println!("{} tools:", tools.len());
    for t in tools {
        match &t.description {
            Some(d) => println!("  {}  {}", t.name, d),
            None => println!("  {}", t.name),
        }
    }
}

/// Before a step-up sign-in: what the server asked for `what` (a tool's name, or "its
/// tools"), and the scopes the sign-in asks for. On stderr, so results stay alone on stdout.
pub fn step_up(c: &Challenged, what: &str, json: bool) {
    if json {
        return;
    }
    let asking = if c.scopes.is_empty() {
        "the scopes the server recommends".to_string()
    } else {
        c.scopes.join(" ")
    };
    if c.status == 403 {
        eprintln!(
            "The server needs more permissions for {what}; signing in again asking for: {asking}"
        );
    } else {
        eprintln!("The server asks for sign-in to use {what}; signing in asking for: {asking}");
    }
}

pub fn called(tool: &str, result: &serde_json::Value, step_ups: u32, json: bool) {
    if json {
        print_json(&json!({ "ok": true, "tool": tool, "result": result, "sign_ins": step_ups }));
        return;
    }
    if step_ups > 0 {
        eprintln!("Signed in {step_ups} time(s) for this call, as the server asked.");
    }
    let is_error = result["isError"].as_bool().unwrap_or(false);
    if is_error {
        println!("{tool} reported an error:");
    }
    match result["content"].as_array() {
        Some(items) => {
            for item in items {
                match item["text"].as_str() {
                    Some(t) => println!("{t}"),
                    None => println!("{item}"),
                }
            }
        }
        None => println!("{result}"),
    }
}

fn wrap(words: &[&str], width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for w in words {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.len() + 1 + w.len() > width {
            lines.push(w.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(w);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_code_text_gives_address_code_qr_and_time() {
        let uri = "https://as.example.com/device";
        let qr = device_qr("https://as.example.com/device?user_code=BCDF-GHJK").unwrap();
        let t = device_code_text("BCDF-GHJK", uri, true, 600, Some(&qr));
        assert!(t.starts_with("To sign in, open this address on your phone or another computer:\n  https://as.example.com/device\nand enter the code:\n  BCDF-GHJK\nOr scan this QR code (it opens the address with the code filled in):\n"), "{t}");
        assert!(t.contains('▀') || t.contains('▄'), "{t}");
        assert!(t.ends_with("The code is good for about 10 minutes. Waiting for you to approve the sign-in there (Ctrl-C stops)...\n"), "{t}");
        // Off a terminal: no QR code.
        let plain = device_code_text("BCDF-GHJK", uri, false, 90, None);
        assert!(!plain.contains("QR"), "{plain}");
        assert!(plain.contains("good for 90 seconds"), "{plain}");
    }
}
