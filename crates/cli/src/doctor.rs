//! `latchkey doctor SERVER`: the reason in plain words, the fix, and the requests behind it.

use latchkey_core::usecase::{Diagnosis, Status};

pub fn print(d: &Diagnosis, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(d).unwrap_or_default());
        return;
    }
    match (&d.status, &d.working, &d.reason) {
        (Status::Working, Some(w), _) => {
            println!(
                "{} works: connected to {} ({} tools){}.",
                d.server,
                w.server_name,
                w.tools,
                if w.renewable {
                    "; the session renews itself"
                } else {
                    "; the session cannot be renewed, so you will sign in again when it ends"
                }
            );
        }
        (_, _, Some(r)) => {
            println!("{}: {}.", d.server, r.title);
            println!("Why: {}", r.explanation);
            println!("Fix: {}", r.fix.words());
            println!("Detail: {}", r.detail);
        }
        _ => {}
    }
    if let Some(f) = &d.last_flow {
        println!();
        println!(
            "Last {} ({}, {} ago): {}",
            f.kind,
            requests(f.exchanges.len()),
            ago(f.at),
            f.outcome
        );
    }
    if d.trace.is_empty() {
        if d.reason.is_some() {
            println!("(Latchkey recorded this when it last tried; nothing was sent now.)");
        }
        return;
    }
    println!();
    println!(
        "What Latchkey did ({}, secrets hidden):",
        requests(d.trace.len())
    );
    for (i, e) in d.trace.iter().enumerate() {
        let outcome = match (&e.status, &e.error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(err)) => err.clone(),
            _ => "no answer".into(),
        };
        println!(
            "  {}. {} {} -> {} ({} ms)",
            i + 1,
            e.method,
            e.url,
            outcome,
            e.millis
        );
        for (k, v) in &e.response_headers {
            if k == "www-authenticate" {
                println!("     www-authenticate: {v}");
            }
        }
        if let (Some(s), Some(body)) = (e.status, &e.response_body) {
            if s >= 400 {
                let short: String = body.chars().take(300).collect();
                println!("     {short}");
            }
        }
    }
}

fn ago(at: u64) -> String {
    let s = latchkey_core::clock::now().saturating_sub(at);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

fn requests(n: usize) -> String {
    if n == 1 {
        "1 request".into()
    } else {
        format!("{n} requests")
    }
}
