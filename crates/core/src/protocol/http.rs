//! The HTTP client every flow uses: bounded time, bounded bodies, no redirects followed
//! silently, and errors that name the URL.
//!
//! Every request, the token requests of the `oauth2` crate included, goes out through one
//! [`Transport`]: [`Reqwest`] (the network) unless a test hands [`Http::with_transport`]
//! another one, such as [`Canned`](crate::protocol::canned::Canned). Requests are put
//! together as an [`Outgoing`], which cannot send itself, so nothing bypasses the transport.

use crate::error::{Error, Result};
use crate::protocol::trace::{self, Exchange, Recorder};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Bodies larger than this are refused: metadata and token answers are small.
pub const MAX_BODY: usize = 1024 * 1024;

/// The future a [`Transport`] returns. It is `Send + Sync` because the `oauth2` crate wants
/// both of its HTTP client's futures (`oauth2::AsyncHttpClient::Future`), and the token
/// requests await the transport inside that future.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<reqwest::Response>> + Send + Sync + 'a>>;

/// What carries one request to a server and brings back the response.
///
/// It speaks reqwest's own [`reqwest::Request`] and [`reqwest::Response`]: every request is
/// one already (the `oauth2` crate's token requests convert to one), a test double builds a
/// response without a socket from an `http::Response` (`reqwest::Response::from`), and the
/// body limit, the trace and the error words then stay in [`Http`], the same over every
/// transport. A boxed future keeps the trait object-safe without `async-trait`.
///
/// Errors are already ours and name the request's URL: [`Error::Timeout`] when the server
/// did not answer in time, [`Error::Unreachable`] for anything else that kept an answer
/// from arriving. An HTTP error status is an answer, not an error.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request`; resolves once the response's status and headers are in. The body is
    /// read from the returned response afterwards.
    fn execute(&self, request: reqwest::Request) -> TransportFuture<'_>;
}

/// The network transport: a reqwest client that follows no redirect (a flow decides what a
/// 3xx means), connects within min(timeout, 10 s), gives a whole exchange `timeout`, and
/// says `latchkey/<version>` as its user agent.
#[derive(Debug, Clone)]
pub struct Reqwest {
    client: reqwest::Client,
    timeout: Duration,
}

impl Reqwest {
    /// A client whose exchanges each end after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")));
        let client = crate::protocol::test_hosts::apply(builder)
            .build()
            .expect("a TLS backend is compiled in");
        Reqwest { client, timeout }
    }

    /// A client for long-lived exchanges (an MCP server's event stream, a tool call that
    /// streams progress for minutes): it connects within `connect_timeout` and then waits as
    /// long as the server keeps the exchange open. No redirects are followed.
    pub fn streaming(connect_timeout: Duration) -> Self {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")));
        let client = crate::protocol::test_hosts::apply(builder)
            .build()
            .expect("a TLS backend is compiled in");
        Reqwest {
            client,
            timeout: connect_timeout,
        }
    }
}

impl Transport for Reqwest {
    fn execute(&self, request: reqwest::Request) -> TransportFuture<'_> {
        let url = request.url().clone();
        Box::pin(async move {
            self.client
                .execute(request)
                .await
                .map_err(|e| map_reqwest_error(&url, self.timeout, e))
        })
    }
}

/// The HTTP client of every flow: a [`Transport`], the timeout its errors report, and an
/// optional [`Recorder`] that keeps a redacted copy of every exchange. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Http {
    transport: Arc<dyn Transport>,
    timeout: Duration,
    recorder: Option<Recorder>,
}

/// A response read whole, with the headers a flow needs.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, as sent.
    pub headers: reqwest::header::HeaderMap,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// The URL the request went to (not a redirect target: none is followed).
    pub url: Url,
}

impl Fetched {
    /// Every value of header `name`, in order, decoded lossily as UTF-8.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// The `Content-Type`, lower-cased; empty when there is none.
    pub fn content_type(&self) -> String {
        self.header_values("content-type")
            .into_iter()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// The body as text, redacted ([`crate::redact::body`]), trimmed and cut to 300
    /// characters, for error messages.
    pub fn text_excerpt(&self) -> String {
        let s = crate::redact::body(&self.content_type(), &self.body);
        let s = s.trim();
        if s.chars().count() > 300 {
            format!("{}…", s.chars().take(300).collect::<String>())
        } else {
            s.to_string()
        }
    }
}

/// One request being put together: method, URL, headers and body. It has no way to send
/// itself; [`Http::send`] sends it through the transport. A header that cannot be sent (a
/// control character in its value, say) makes `send` fail with [`Error::Unreachable`]
/// before anything goes out.
pub struct Outgoing {
    request: reqwest::Request,
    invalid: Option<String>,
}

impl fmt::Debug for Outgoing {
    /// Method and URL only, with secrets in the query redacted: headers and body may hold
    /// credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("method", self.request.method())
            .field("url", &trace::redact_url(self.request.url().as_str()))
            .finish_non_exhaustive()
    }
}

impl Outgoing {
    /// A request with no headers and no body.
    pub fn new(method: reqwest::Method, url: &Url) -> Self {
        Outgoing {
            request: reqwest::Request::new(method, url.clone()),
            invalid: None,
        }
    }

    /// A `GET` of `url`.
    pub fn get(url: &Url) -> Self {
        Outgoing::new(reqwest::Method::GET, url)
    }

    /// A `POST` to `url`.
    pub fn post(url: &Url) -> Self {
        Outgoing::new(reqwest::Method::POST, url)
    }

    /// Adds a header (after any of the same name).
    pub fn header(self, name: &str, value: impl AsRef<str>) -> Self {
        self.add_header(name, value.as_ref(), false)
    }

    /// `Authorization: Bearer <token>` (RFC 6750 section 2.1), marked sensitive.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.add_header("authorization", &format!("Bearer {token}"), true)
    }

    /// `Authorization: Basic base64(user:password)` (RFC 7617), marked sensitive; the two
    /// parts are sent as given, as reqwest's `basic_auth` does.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.add_header("authorization", &format!("Basic {encoded}"), true)
    }

    /// The body, sent as is.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        *self.request.body_mut() = Some(reqwest::Body::from(body.into()));
        self
    }

    /// A JSON body; `Content-Type: application/json` unless one was set before.
    pub fn json(mut self, value: &serde_json::Value) -> Self {
        let headers = self.request.headers_mut();
        if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
            headers.insert(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            );
        }
        self.body(value.to_string())
    }

    /// An `application/x-www-form-urlencoded` body of `fields`, in order (the encoding of
    /// the URL standard, as OAuth's token, revocation and registration forms use).
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.request.headers_mut().insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body(body)
    }

    /// The URL the request goes to.
    pub fn url(&self) -> &Url {
        self.request.url()
    }

    fn add_header(mut self, name: &str, value: &str, sensitive: bool) -> Self {
        use reqwest::header::{HeaderName, HeaderValue};
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(mut v)) => {
                v.set_sensitive(sensitive);
                self.request.headers_mut().append(n, v);
            }
            // The value is not repeated: it may be a credential.
            _ => {
                self.invalid
                    .get_or_insert_with(|| format!("the header {name:?} cannot be sent as HTTP"));
            }
        }
        self
    }

    fn build(self) -> Result<reqwest::Request> {
        match self.invalid {
            None => Ok(self.request),
            Some(why) => Err(Error::Unreachable {
                url: self.request.url().to_string(),
                detail: format!("the request failed ({why})"),
            }),
        }
    }
}

impl Http {
    /// The network client, whose exchanges each end after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Http::with_transport(Arc::new(Reqwest::new(timeout)), timeout)
    }

    /// A client over `transport` (a test's canned exchanges, say); `timeout` is what its
    /// errors report, the transport enforces its own.
    pub fn with_transport(transport: Arc<dyn Transport>, timeout: Duration) -> Self {
        Http {
            transport,
            timeout,
            recorder: None,
        }
    }

    /// The same client, recording every exchange (redacted) into `recorder`.
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The recorder given to [`Http::with_recorder`], if any.
    /// Keeps `fetched` (the answer from `url`) out of the trace but for its status, content
    /// type and length: for metadata that failed validation, whose body may be anything
    /// (a page of a service it should not have named).
    pub fn withhold_body(&self, url: &Url, fetched: &Fetched) {
        if let Some(r) = &self.recorder {
            r.withhold_body(
                url.as_str(),
                format!(
                    "[not kept: it failed validation; HTTP {}, {}, {} bytes]",
                    fetched.status,
                    match fetched.content_type() {
                        ct if ct.is_empty() => "no content type".to_string(),
                        ct => ct,
                    },
                    fetched.body.len()
                ),
            );
        }
    }

    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// How long one exchange may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET url` with `Accept: accept`.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched> {
        self.send(Outgoing::get(url).header("accept", accept)).await
    }

    /// Sends `req` through the transport and reads the whole answer, whatever its status.
    ///
    /// Errors: [`Error::Timeout`] and [`Error::Unreachable`] from the transport (or for a
    /// header that cannot be sent), [`Error::BadMetadata`] for a body over [`MAX_BODY`].
    pub async fn send(&self, req: Outgoing) -> Result<Fetched> {
        self.exchange(req.build()?).await
    }

    async fn exchange(&self, req: reqwest::Request) -> Result<Fetched> {
        let url = req.url().clone();
        let started = Instant::now();
        let mut exchange = self.recorder.as_ref().map(|_| request_record(&req));
        let result = async {
            let resp = self.transport.execute(req).await?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = read_limited(resp)
                .await
                .map_err(|e| map_reqwest_error(&url, self.timeout, e))?
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
}

/// A reqwest failure in our words: [`Error::Timeout`] after `timeout`, otherwise
/// [`Error::Unreachable`] with the innermost cause.
/// Our error for a reqwest failure on `url`: [`Error::Timeout`] (reported as `timeout`) or
/// [`Error::Unreachable`].
pub(crate) fn map_reqwest_error(url: &Url, timeout: Duration, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            url: url.to_string(),
            seconds: timeout.as_secs().max(1),
        }
    } else {
        Error::Unreachable {
            url: url.to_string(),
            detail: describe(&e),
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

/// The token endpoint calls of the `oauth2` crate go through here, so they use the same
/// transport, body limit and trace as every other request. A failure reaches the crate as
/// `HttpClientError::Reqwest` holding our [`Error`] (the crate's name for "the request
/// failed"); a request the crate built that is not valid HTTP as `HttpClientError::Other`.
impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = oauth2::HttpClientError<Error>;
    type Future = Pin<
        Box<
            dyn Future<Output = std::result::Result<oauth2::HttpResponse, Self::Error>>
                + Send
                + Sync
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let req = reqwest::Request::try_from(request).map_err(|e| {
                oauth2::HttpClientError::Other(format!("the token request is not valid ({e})"))
            })?;
            let fetched = self
                .exchange(req)
                .await
                .map_err(|e| oauth2::HttpClientError::Reqwest(Box::new(e)))?;
            let mut builder = oauth2::http::Response::builder().status(fetched.status);
            // A form-encoded answer (GitHub's OAuth apps, some others) goes on as the JSON of
            // its fields: the crate reads JSON only. The trace keeps what was answered.
            let form = match crate::oauth::token_response::json_body(
                &fetched.body,
                &fetched.content_type(),
            ) {
                std::borrow::Cow::Owned(json) => Some(json),
                std::borrow::Cow::Borrowed(_) => None,
            };
            for (name, value) in fetched.headers.iter() {
                if form.is_some() && name == reqwest::header::CONTENT_TYPE {
                    continue;
                }
                builder = builder.header(name, value);
            }
            let body = match form {
                Some(json) => {
                    builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json");
                    json
                }
                None => fetched.body,
            };
            builder.body(body).map_err(oauth2::HttpClientError::Http)
        })
    }
}

async fn read_limited(resp: reqwest::Response) -> reqwest::Result<Option<Vec<u8>>> {
    read_capped(resp, MAX_BODY).await
}

/// Reads the whole body of `resp` when it is at most `limit` bytes; None (and the rest left
/// unread) when it is longer. Every body read from the network goes through here or
/// [`read_prefix`], so a server cannot make Latchkey hold an endless answer in memory.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    limit: usize,
) -> reqwest::Result<Option<Vec<u8>>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The first `limit` bytes (at most) of the body of `resp`, for quoting an error answer; the
/// rest is not read. A failure to read gives what was read so far.
pub(crate) async fn read_prefix(mut resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    body
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
