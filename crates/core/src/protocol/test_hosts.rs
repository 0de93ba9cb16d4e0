//! Debug builds only: host names resolved from a file the tests write, so the end-to-end
//! tests can be "offline" (every name fails to resolve, as with no network) and come back,
//! without a DNS query ever leaving the machine.
//!
//! `LATCHKEY_TEST_HOSTS=FILE`: each lookup reads FILE, lines `NAME ADDRESS` (`#` comments);
//! a name it does not list fails as the system resolver fails offline ("failed to lookup
//! address information: Temporary failure in name resolution"). `localhost` is 127.0.0.1.
//! IP-literal URLs are never looked up. Release builds never read the variable.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// The debug builds' test resolver on `builder` when `LATCHKEY_TEST_HOSTS` is set.
pub fn apply(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    if !cfg!(debug_assertions) {
        return builder;
    }
    match std::env::var_os("LATCHKEY_TEST_HOSTS").filter(|v| !v.is_empty()) {
        Some(file) => builder.dns_resolver(Arc::new(TestHosts(PathBuf::from(file)))),
        None => builder,
    }
}

struct TestHosts(PathBuf);

/// The address `name` has in `hosts` (the file's text), if any.
fn lookup(hosts: &str, name: &str) -> Option<IpAddr> {
    if name.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    hosts
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .find_map(|l| {
            let mut words = l.split_whitespace();
            let n = words.next()?;
            n.eq_ignore_ascii_case(name)
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
}

impl Resolve for TestHosts {
    fn resolve(&self, name: Name) -> Resolving {
        let file = self.0.clone();
        Box::pin(async move {
            let hosts = std::fs::read_to_string(&file).unwrap_or_default();
            match lookup(&hosts, name.as_str()) {
                // Port 0: the connector puts the URL's port in.
                Some(ip) => Ok(Box::new(std::iter::once(SocketAddr::new(ip, 0))) as Addrs),
                None => Err(std::io::Error::other(
                    "failed to lookup address information: Temporary failure in name resolution",
                )
                .into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_file_and_others_fail() {
        let hosts = "# test\ngitlab.example.com 127.0.0.1\nNotion.example.com 127.0.0.2 # x\n";
        assert_eq!(
            lookup(hosts, "gitlab.example.com"),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            lookup(hosts, "notion.EXAMPLE.com"),
            Some("127.0.0.2".parse().unwrap())
        );
        assert_eq!(lookup(hosts, "linear.example.com"), None);
        assert_eq!(lookup("", "localhost"), Some("127.0.0.1".parse().unwrap()));
    }
}
