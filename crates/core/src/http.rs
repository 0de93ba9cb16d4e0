//! The HTTP client every flow uses: bounded time, bounded bodies, no redirects followed
//! silently, and errors that name the URL.

use crate::error::{Error, Result};
use std::time::Duration;
use url::Url;

/// Bodies larger than this are refused: metadata and token answers are small.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

/// A response read whole, with the headers a flow needs.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    pub url: Url,
}

impl Fetched {
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    pub fn content_type(&self) -> String {
        self.header_values("content-type")
            .into_iter()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    pub fn text_excerpt(&self) -> String {
        let s = String::from_utf8_lossy(&self.body);
        let s = s.trim();
        if s.chars().count() > 300 {
            format!("{}…", s.chars().take(300).collect::<String>())
        } else {
            s.to_string()
        }
    }
}

impl Http {
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS backend is compiled in");
        Http { client, timeout }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched> {
        let req = self.client.get(url.clone()).header("accept", accept);
        self.send(url, req).await
    }

    pub async fn send(&self, url: &Url, req: reqwest::RequestBuilder) -> Result<Fetched> {
        let resp = req.send().await.map_err(|e| self.map_err(url, e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_limited(resp)
            .await
            .map_err(|e| self.map_err(url, e))?
            .ok_or_else(|| Error::BadMetadata {
                what: "response",
                url: url.to_string(),
                detail: format!("it is larger than {} KiB", MAX_BODY / 1024),
            })?;
        Ok(Fetched {
            status,
            headers,
            body,
            url: url.clone(),
        })
    }

    pub fn map_err(&self, url: &Url, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                url: url.to_string(),
                seconds: self.timeout.as_secs().max(1),
            }
        } else {
            Error::Unreachable {
                url: url.to_string(),
                detail: describe(&e),
            }
        }
    }
}

async fn read_limited(mut resp: reqwest::Response) -> reqwest::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The innermost cause of a transport error: "connection refused", "certificate expired", ...
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_connect() {
        "the connection failed".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    if let Some(l) = last {
        msg.push_str(" (");
        msg.push_str(&l);
        msg.push(')');
    }
    msg
}
