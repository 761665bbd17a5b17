//! The little HTTP a scrape needs: one request per connection, `GET /metrics`, answered and
//! closed. Pure: the transport reads the request's head from its socket, asks [`answer`], writes
//! the bytes back and closes. Anything else gets a plain error status; nothing a client sends can
//! make it read more than [`MAX_HEAD`] bytes or answer more than once.

use super::ServerMetrics;

/// The most request-head bytes read; a longer head is answered `431`.
pub const MAX_HEAD: usize = 8 << 10;

/// What the Prometheus text format is served as.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether `head` holds a whole request head (or all that will be read of one).
pub fn head_complete(head: &[u8]) -> bool {
    head.len() >= MAX_HEAD
        || memchr::memmem::find(head, b"\r\n\r\n").is_some()
        || memchr::memmem::find(head, b"\n\n").is_some()
}

/// The whole response to the request whose head is `head`.
pub fn answer(head: &[u8], metrics: &ServerMetrics) -> Vec<u8> {
    if head.len() >= MAX_HEAD && !head_complete(&head[..MAX_HEAD - 1]) {
        return status(431, "Request Header Fields Too Large");
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return status(400, "Bad Request");
    };
    if !version.starts_with(b"HTTP/1.") {
        return status(400, "Bad Request");
    }
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    if path != b"/metrics" {
        return status(404, "Not Found");
    }
    match method {
        b"GET" => ok(metrics.encode().as_bytes(), true),
        b"HEAD" => ok(metrics.encode().as_bytes(), false),
        _ => status(405, "Method Not Allowed"),
    }
}

fn ok(body: &[u8], with_body: bool) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if with_body {
        response.extend_from_slice(body);
    }
    response
}

fn status(code: u16, reason: &str) -> Vec<u8> {
    let body = format!("{code} {reason}\n");
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
