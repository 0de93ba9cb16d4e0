//! Probing 100 servers, some slow and some that never answer: the whole probe ends within
//! the per-request timeout plus a margin, and fast servers are reported first.

use latchkey_core::health::probe::{probe_all, Health};
use latchkey_core::protocol::http::Http;
use latchkey_core::store::vault::MemoryStore;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A loopback stub: answers each request with 401 after `delay`, or never when None.
fn stub(delay: Option<Duration>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/mcp", l.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                match delay {
                    Some(d) => {
                        std::thread::sleep(d);
                        let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    }
                    // Never answers; holds the connection until the test process ends.
                    None => std::thread::sleep(Duration::from_secs(600)),
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_servers_with_slow_and_silent_ones() {
    let mut servers = Vec::new();
    let mut fast = Vec::new();
    for i in 0..100 {
        let url = match i % 10 {
            0 => stub(None),
            1 => stub(Some(Duration::from_millis(1200))),
            _ => {
                let u = stub(Some(Duration::ZERO));
                fast.push(u.clone());
                u
            }
        };
        servers.push(url);
    }
    let timeout = Duration::from_secs(2);
    let started = Instant::now();
    let mut order = Vec::new();
    let results = probe_all(
        servers,
        Arc::new(MemoryStore::default()),
        Http::new(timeout),
        128,
        |h| order.push(h.server.clone()),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(results.len(), 100);
    assert!(
        took < timeout + Duration::from_millis(1500),
        "took {took:?}"
    );
    // The 80 fast servers come before every slow or silent one.
    let first: Vec<&String> = order.iter().take(80).collect();
    assert!(
        first.iter().all(|s| fast.contains(s)),
        "a slow server came before a fast one"
    );
    let count = |h: Health| results.iter().filter(|r| r.health == h).count();
    assert_eq!(
        count(Health::NeverSignedIn),
        90,
        "fast and slow answer 401 without a token"
    );
    assert_eq!(count(Health::Unreachable), 10, "silent ones time out");
    let silent = results
        .iter()
        .find(|r| r.health == Health::Unreachable)
        .unwrap();
    assert_eq!(silent.reason.as_ref().unwrap().id, "timeout");
}
