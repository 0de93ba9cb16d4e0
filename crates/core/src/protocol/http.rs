//! The HTTP client every flow uses: bounded time, bounded bodies, no redirects followed
//! silently, and errors that name the URL.

use crate::error::{Error, Result};
use crate::protocol::trace::{self, Exchange, Recorder};
use std::time::{Duration, Instant};
use url::Url;

/// Bodies larger than this are refused: metadata and token answers are small.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    recorder: Option<Recorder>,
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
        Http {
            client,
            timeout,
            recorder: None,
        }
    }

    /// The same client, recording every exchange (redacted) into `recorder`.
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
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
        let req = req.build().map_err(|e| self.map_err(url, e))?;
        let started = Instant::now();
        let mut exchange = self.recorder.as_ref().map(|_| request_record(&req));
        let result = async {
            let resp = self
                .client
                .execute(req)
                .await
                .map_err(|e| self.map_err(url, e))?;
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
        .await;
        if let (Some(rec), Some(e)) = (&self.recorder, exchange.as_mut()) {
            finish_record(e, &result, started);
            rec.push(e.clone());
        }
        result
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

fn request_record(req: &reqwest::Request) -> Exchange {
    let ct = req
        .headers()
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    Exchange {
        method: req.method().to_string(),
        url: trace::redact_url(req.url().as_str()),
        status: None,
        request_headers: trace::redact_headers(
            req.headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_bytes())),
        ),
        request_body: req
            .body()
            .and_then(|b| b.as_bytes())
            .and_then(|b| trace::redact_body(&ct, b)),
        response_headers: Vec::new(),
        response_body: None,
        millis: 0,
        error: None,
    }
}

fn finish_record(e: &mut Exchange, result: &Result<Fetched>, started: Instant) {
    e.millis = started.elapsed().as_millis() as u64;
    match result {
        Ok(f) => {
            e.status = Some(f.status);
            e.response_headers =
                trace::redact_headers(f.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())));
            e.response_body = trace::redact_body(&f.content_type(), &f.body);
        }
        Err(err) => e.error = Some(err.to_string()),
    }
}

/// The token endpoint calls of the `oauth2` crate go through here, so they are bounded and
/// recorded like every other request.
impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<oauth2::HttpResponse, Self::Error>>
                + Send
                + Sync
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let req: reqwest::Request = request.try_into().map_err(Box::new)?;
            let started = Instant::now();
            let mut exchange = self.recorder.as_ref().map(|_| request_record(&req));
            let url = req.url().clone();
            let result = async {
                let resp = self.client.execute(req).await.map_err(Box::new)?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = resp.bytes().await.map_err(Box::new)?.to_vec();
                Ok::<_, oauth2::HttpClientError<reqwest::Error>>((status, headers, body))
            }
            .await;
            if let (Some(rec), Some(e)) = (&self.recorder, exchange.as_mut()) {
                let as_fetched = match &result {
                    Ok((status, headers, body)) => Ok(Fetched {
                        status: status.as_u16(),
                        headers: headers.clone(),
                        body: body.clone(),
                        url: url.clone(),
                    }),
                    Err(err) => Err(Error::Unreachable {
                        url: url.to_string(),
                        detail: err.to_string(),
                    }),
                };
                finish_record(e, &as_fetched, started);
                rec.push(e.clone());
            }
            let (status, headers, body) = result?;
            let mut builder = oauth2::http::Response::builder().status(status);
            for (name, value) in headers.iter() {
                builder = builder.header(name, value);
            }
            builder.body(body).map_err(oauth2::HttpClientError::Http)
        })
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
