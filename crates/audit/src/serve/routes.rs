//! The HTTP routes: `POST /audit` takes the API server's `audit.k8s.io/v1` `EventList`
//! batches; `GET /healthz`, `/readyz` and `/metrics` are for probes and Prometheus.
//!
//! A batch is answered 200 only once it is in the journal on disk. Overload is refused
//! early and cheaply, before the body is read, with `Retry-After`, which the API server's
//! webhook backend honours by retrying with backoff: too many batches in flight is 503, a
//! full backlog is 429.

use super::State;
use super::journal::Message;
use super::record::HEADER;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Limited};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;

/// Whether this connection's client showed a certificate the configured CA signed.
#[derive(Debug, Clone, Copy)]
pub struct ClientAuth {
    /// A verified client certificate was presented.
    pub certified: bool,
}

/// The routes, with the shared state.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/audit", post(audit))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    if state.progress.failed() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the journal failed; see the log\n",
        )
            .into_response()
    } else if state.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    }
}

async fn metrics(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(state.progress.backlog()),
    )
        .into_response()
}

/// A refusal: the status and a one-line reason, counted under `result`.
fn refuse(state: &State, result: &'static str, status: StatusCode, message: &str) -> Response {
    state.metrics.request(result);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

async fn audit(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    Extension(client): Extension<ClientAuth>,
    request: Request,
) -> Response {
    // Shedding costs next to nothing: no body is read, so memory stays bounded by the
    // permits times the largest batch.
    let Ok(_permit) = Arc::clone(&state.permits).try_acquire_owned() else {
        return refuse(
            &state,
            "shed",
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded: too many batches in flight",
        );
    };
    answer(&state, client, request).await
}

async fn answer(state: &State, client: ClientAuth, request: Request) -> Response {
    let options = &state.options;
    let limit = options.max_batch_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return refuse(
            state,
            "too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            &too_large(limit),
        );
    }
    if state.progress.failed() {
        return refuse(
            state,
            "error",
            StatusCode::SERVICE_UNAVAILABLE,
            "the journal cannot be written; see the server's log",
        );
    }
    if state.progress.backlog() + declared.unwrap_or(0) > options.max_backlog_bytes {
        return refuse(
            state,
            "overloaded",
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded: the backlog of batches to analyse is full",
        );
    }
    let bytes = match read_body(state, request, limit).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    if state.mutual_tls && !client.certified {
        return refuse(
            state,
            "unauthorized",
            StatusCode::UNAUTHORIZED,
            "a client certificate signed by the configured CA is required",
        );
    }
    let events = match check_large(bytes.clone()).await {
        Ok(events) => events,
        Err(message) => return refuse(state, "invalid", StatusCode::BAD_REQUEST, &message),
    };
    state.metrics.received(events);
    journal(state, bytes, events).await
}

/// Reads the body within the size limit and the read timeout.
async fn read_body(state: &State, request: Request, limit: usize) -> Result<Bytes, Response> {
    let body = Limited::new(request.into_body(), limit).collect();
    match tokio::time::timeout(state.options.read_timeout, body).await {
        Err(_) => Err(refuse(
            state,
            "invalid",
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(refuse(
            state,
            "too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            &too_large(limit),
        )),
        Ok(Err(e)) => Err(refuse(
            state,
            "invalid",
            StatusCode::BAD_REQUEST,
            &format!("cannot read the body: {e}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Hands the batch to the journal writer and answers once it is on disk.
async fn journal(state: &State, body: Bytes, events: u64) -> Response {
    let size = HEADER + body.len() as u64;
    if !state
        .progress
        .reserve(size, state.options.max_backlog_bytes)
    {
        return refuse(
            state,
            "overloaded",
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded: the backlog of batches to analyse is full",
        );
    }
    let (reply, answer) = oneshot::channel();
    if state.journal.send(Message::Append { body, reply }).is_err() {
        state.progress.release(size);
        return refuse(
            state,
            "error",
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting down",
        );
    }
    match answer.await {
        Ok(Ok(_)) => {
            state.metrics.acknowledged(events);
            state.metrics.request("ok");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{}\n",
            )
                .into_response()
        }
        // The writer gave the reservation back.
        Ok(Err(e)) => refuse(
            state,
            "error",
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the batch could not be written to the journal: {e}"),
        ),
        Err(_) => refuse(
            state,
            "error",
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting down",
        ),
    }
}

/// Checks a batch off the I/O threads when it is large (checking is CPU work).
async fn check_large(bytes: Bytes) -> Result<u64, String> {
    if bytes.len() < 64 * 1024 {
        return check_batch(&bytes);
    }
    match tokio::task::spawn_blocking(move || check_batch(&bytes)).await {
        Ok(result) => result,
        Err(e) => Err(format!("the batch could not be checked: {e}")),
    }
}

/// The shape the webhook posts, read without building the events: the consumer parses
/// them in full later, and this check only has to refuse what is not a batch at all.
#[derive(Deserialize)]
struct Batch {
    kind: Option<String>,
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    items: Option<Vec<IgnoredAny>>,
}

/// How many events a body holds, or why it is not an `audit.k8s.io` `EventList` (or a
/// single `Event`).
pub fn check_batch(bytes: &[u8]) -> Result<u64, String> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err("not a JSON object: expected an audit.k8s.io/v1 EventList".to_string());
    }
    let batch: Batch =
        serde_json::from_slice(bytes).map_err(|e| format!("not an EventList: {e}"))?;
    if let Some(version) = batch.api_version.as_deref()
        && !version.starts_with("audit.k8s.io/")
    {
        return Err(format!(
            "apiVersion {version:?}: expected audit.k8s.io/v1 (or v1beta1)"
        ));
    }
    match batch.kind.as_deref() {
        Some("EventList") => Ok(batch.items.map_or(0, |items| items.len() as u64)),
        Some("Event") => Ok(1),
        Some(other) => Err(format!("kind {other:?}: expected EventList")),
        None => Err("no kind: expected an audit.k8s.io/v1 EventList".to_string()),
    }
}

fn too_large(limit: usize) -> String {
    format!("the batch is larger than {limit} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_counted_and_what_is_not_a_batch_says_why() {
        let list = br#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[{"a":1},{"b":[2]}]}"#;
        assert_eq!(check_batch(list), Ok(2));
        assert_eq!(check_batch(br#"{"kind":"EventList","items":null}"#), Ok(0));
        assert_eq!(check_batch(br#" {"kind":"Event","auditID":"x"}"#), Ok(1));
        for (body, says) in [
            (&b"hello"[..], "not a JSON object"),
            (b"[{\"kind\":\"EventList\"}]", "not a JSON object"),
            (
                b"{\"kind\":\"EventList\",\"items\":[",
                "not an EventList: EOF",
            ),
            (b"{\"kind\":\"Pod\"}", "kind \"Pod\""),
            (
                b"{\"kind\":\"EventList\",\"apiVersion\":\"v1\"}",
                "apiVersion \"v1\"",
            ),
            (b"{\"items\":[]}", "no kind"),
            (b"{\"kind\":\"EventList\",\"items\":{}}", "not an EventList"),
        ] {
            let error = check_batch(body).unwrap_err();
            assert!(
                error.contains(says),
                "{}: {error}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
