//! Reading a `text/event-stream` as it arrives (HTML Living Standard, "Server-sent events",
//! section 9.2.6 "Interpreting an event stream"), as MCP's Streamable HTTP and HTTP+SSE
//! transports send JSON-RPC messages (MCP specification, "Transports").
//!
//! Bytes are fed in chunks as the network gives them; complete events come out. Lines end in
//! CRLF, LF or CR; `data:` lines of one event are joined with LF; `id:` sets the last event
//! id (kept across events, for resumption with `Last-Event-ID`); `retry:` the reconnection
//! delay in milliseconds; comments (`:`) are skipped.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `event:`, `message` when absent.
    pub event: String,
    /// The `data:` lines joined with LF.
    pub data: String,
    /// The last event id seen on the stream so far (this event's `id:`, or an earlier one).
    pub id: Option<String>,
}

/// The most bytes one event may gather before the stream is refused (a server that never ends
/// a line must not grow the bridge without bound): 16 MiB.
pub const MAX_EVENT: usize = 16 << 20;

/// An incremental event-stream reader.
#[derive(Debug, Default)]
pub struct Reader {
    buffer: Vec<u8>,
    event: String,
    data: Vec<String>,
    has_data: bool,
    last_id: Option<String>,
    /// The `retry:` field's reconnection delay in milliseconds, when the server sent one.
    pub retry_ms: Option<u64>,
    after_cr: bool,
}

/// A stream whose event grew past [`MAX_EVENT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge;

impl Reader {
    /// The last event id seen (for `Last-Event-ID` when reconnecting).
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Reads `chunk` and returns the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, TooLarge> {
        let mut out = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.buffer);
                    if let Some(e) = self.line(&String::from_utf8_lossy(&line)) {
                        out.push(e);
                    }
                }
                _ => {
                    self.buffer.push(b);
                    let pending: usize = self.data.iter().map(String::len).sum();
                    if self.buffer.len() + pending > MAX_EVENT {
                        return Err(TooLarge);
                    }
                }
            }
        }
        Ok(out)
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                self.data.push(value.to_string());
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry_ms = Some(ms);
                }
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let event = std::mem::take(&mut self.event);
        let data = std::mem::take(&mut self.data);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(Event {
            event: if event.is_empty() {
                "message".into()
            } else {
                event
            },
            data: data.join("\n"),
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_line_ends_come_out_whole() {
        let mut r = Reader::default();
        assert!(r
            .feed(b"id: 1\r\nevent: endpoint\r\nda")
            .unwrap()
            .is_empty());
        let got = r
            .feed(b"ta: /messages?s=1\r\n\r\n: keepalive\n\ndata: {\"a\":\n")
            .unwrap();
        assert_eq!(
            got,
            vec![Event {
                event: "endpoint".into(),
                data: "/messages?s=1".into(),
                id: Some("1".into())
            }]
        );
        let got = r.feed(b"data: 1}\rretry: 250\r\r").unwrap();
        assert_eq!(got[0].data, "{\"a\":\n1}");
        assert_eq!(got[0].event, "message");
        assert_eq!(got[0].id.as_deref(), Some("1"), "the last id is kept");
        assert_eq!(r.retry_ms, Some(250));
        assert_eq!(r.last_id(), Some("1"));
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_an_endless_line_is_refused() {
        let mut r = Reader::default();
        assert!(r.feed(b"id: 7\n\n").unwrap().is_empty());
        assert_eq!(r.last_id(), Some("7"), "priming events set the id");
        let big = vec![b'x'; MAX_EVENT + 1];
        assert_eq!(r.feed(&big), Err(TooLarge));
    }
}
