//! The HTTP routes: `POST /validate` and `/mutate` take AdmissionReviews; `GET /healthz`,
//! `/readyz` and `/metrics` are for probes and Prometheus. Everything that is not a review
//! the server can answer is refused with a status and a one-line reason, never a crash.

use super::State;
use crate::engine::Decision;
use crate::review::Review;
use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, Limited};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Whether this connection's client showed a certificate the configured CA signed.
#[derive(Debug, Clone, Copy)]
pub struct ClientAuth {
    /// A verified client certificate was presented.
    pub certified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Validate,
    Mutate,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// The routes, with the shared state.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn validate(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    Extension(client): Extension<ClientAuth>,
    request: Request,
) -> Response {
    review(state, client, request, Endpoint::Validate).await
}

async fn mutate(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    Extension(client): Extension<ClientAuth>,
    request: Request,
) -> Response {
    review(state, client, request, Endpoint::Mutate).await
}

async fn readyz(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    if state.ready.load(Ordering::Relaxed) {
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
        state.metrics.encode(),
    )
        .into_response()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

async fn review(
    state: Arc<State>,
    client: ClientAuth,
    request: Request,
    endpoint: Endpoint,
) -> Response {
    let recorder = Recorder {
        state: &state,
        endpoint: endpoint.name(),
        started: Instant::now(),
    };
    let done = |decision: &str, dry_run: bool| recorder.done(decision, dry_run);
    // Explicit load shedding: over the limit, answer at once and let the API server retry
    // or apply the webhook's failurePolicy, rather than queue past its timeout.
    // The body is not read: shedding must cost next to nothing. Over HTTP/2 the stream is
    // then reset after the answer, which clients handle.
    let Ok(permit) = Arc::clone(&state.permits).try_acquire_owned() else {
        done("shed", false);
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded: too many reviews in flight",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return response;
    };
    state.metrics.in_flight().inc();
    let response = answer(&state, client, request, endpoint, &recorder, permit).await;
    state.metrics.in_flight().dec();
    response
}

async fn answer(
    state: &Arc<State>,
    client: ClientAuth,
    request: Request,
    endpoint: Endpoint,
    recorder: &Recorder<'_>,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Response {
    let done = |decision: &str, dry_run: bool| recorder.done(decision, dry_run);
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    let limit = state.options.max_review_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        done("invalid", false);
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, &too_large(limit));
    }
    // The body is read before any other refusal: an HTTP/2 stream answered before its body
    // is read is reset, and clients report the reset instead of the answer.
    let body = Limited::new(request.into_body(), limit).collect();
    let bytes = match tokio::time::timeout(state.options.read_timeout, body).await {
        Err(_) => {
            done("invalid", false);
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
            );
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            done("invalid", false);
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, &too_large(limit));
        }
        Ok(Err(e)) => {
            done("invalid", false);
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {e}"),
            );
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    if state.mutual_tls() && !client.certified {
        done("unauthorized", false);
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a client certificate signed by the configured CA is required",
        );
    }
    if !json {
        done("invalid", false);
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "an AdmissionReview must be sent as Content-Type: application/json",
        );
    }
    let review = match Review::parse(&bytes) {
        Ok(review) => review,
        Err(e) => {
            done("invalid", false);
            return refuse(StatusCode::BAD_REQUEST, &e.0);
        }
    };
    let dry_run = review.dry_run();
    let engine = state.engine();
    // Evaluation is CPU work (a Rego policy may take up to its limit): off the I/O threads.
    // The permit goes with the work: a review whose stream was reset, or which ran past its
    // timeout, still counts as in flight until its evaluation ends, so nothing a client does
    // can start more evaluations than the limit.
    let work = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let decision = match endpoint {
            Endpoint::Validate => engine.validate(&review),
            Endpoint::Mutate => engine.mutate(&review),
        };
        let body = decision.response.to_review(&review);
        (decision, body)
    });
    let (decision, body) = match tokio::time::timeout(state.options.evaluation_timeout, work).await
    {
        Ok(Ok(done)) => done,
        Ok(Err(_)) | Err(_) => {
            done("error", dry_run);
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the review could not be evaluated in time; the webhook's failurePolicy applies",
            );
        }
    };
    record(state, &decision);
    let verdict = if !decision.response.allowed {
        "denied"
    } else if decision.response.patch.is_some() {
        "patched"
    } else {
        "allowed"
    };
    done(verdict, dry_run);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

/// Counts a request when it is answered.
struct Recorder<'a> {
    state: &'a State,
    endpoint: &'static str,
    started: Instant,
}

impl Recorder<'_> {
    fn done(&self, decision: &str, dry_run: bool) {
        self.state.metrics.request(
            self.endpoint,
            decision,
            dry_run,
            self.started.elapsed().as_secs_f64(),
        );
    }
}

fn record(state: &State, decision: &Decision) {
    for outcome in &decision.outcomes {
        let action = if outcome.exempted {
            "exempt"
        } else {
            outcome.action.as_str()
        };
        state.metrics.finding(&outcome.control, action);
    }
}

fn too_large(limit: usize) -> String {
    format!("the review is larger than {limit} bytes")
}
