//! Prometheus metrics: request counts and latency histograms by route, method and status,
//! served at `/metrics` in the OpenMetrics text format that Prometheus scrapes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The route pattern (`/api/problems`), never the raw path, so the label set stays bounded.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaseLabels {
    lease: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectiveLabels {
    directive: &'static str,
}

/// The process's metrics. One registry per server, so tests can run several in one process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency_seconds: Family<RequestLabels, Histogram>,
    leader: Family<LeaseLabels, Gauge>,
    csp_violations: Family<DirectiveLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms up to about 16 s.
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("ceiba");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency_seconds = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let leader = Family::<LeaseLabels, Gauge>::default();
        let csp_violations = Family::<DirectiveLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route and status",
            latency_seconds.clone(),
        );
        registry.register(
            "lease_held",
            "1 while this process holds the named singleton lease",
            leader.clone(),
        );
        registry.register(
            "csp_violations",
            "Content-Security-Policy violations browsers reported, by directive",
            csp_violations.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            latency_seconds,
            leader,
            csp_violations,
        })
    }

    pub fn set_lease_held(&self, lease: &'static str, held: bool) {
        self.leader
            .get_or_create(&LeaseLabels { lease })
            .set(i64::from(held));
    }

    pub(crate) fn count_csp_violation(&self, directive: &'static str) {
        self.csp_violations
            .get_or_create(&DirectiveLabels { directive })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times every request.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .latency_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}
