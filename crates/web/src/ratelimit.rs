//! Rate limits per client address: a general one for every request and a tighter one for
//! the routes that are expensive or guess secrets (sign-in, registration and its SMS,
//! password and second-factor changes). Answers 429 with `Retry-After`.
//!
//! The limits live in each process's memory: behind a load balancer with N processes an
//! address gets up to N times the limit, which is still a limit. What must hold across
//! processes, the lockout after failed sign-ins, is kept in the database.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::AppState;
use crate::problem::{ApiError, ErrorCode};

/// The client's address, as the accept loop saw it (the TCP peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub IpAddr);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub requests_per_minute: u32,
    pub sensitive_requests_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            requests_per_minute: 600,
            sensitive_requests_per_minute: 20,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Past this many remembered addresses, forget the ones whose buckets are full again.
const ADDRESSES_REMEMBERED_MAX: usize = 100_000;

pub struct RateLimits {
    general: DefaultKeyedRateLimiter<IpAddr>,
    sensitive: DefaultKeyedRateLimiter<IpAddr>,
    trusted_proxies: Vec<IpAddr>,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

fn per_minute(count: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(count.max(1)).expect("at least 1"))
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> RateLimits {
        RateLimits {
            general: RateLimiter::keyed(per_minute(settings.requests_per_minute)),
            sensitive: RateLimiter::keyed(per_minute(settings.sensitive_requests_per_minute)),
            trusted_proxies: settings.trusted_proxies.clone(),
            checks: AtomicU64::new(0),
        }
    }

    /// Seconds to wait when `address` is over its limit for this kind of request.
    fn check(&self, address: IpAddr, sensitive: bool) -> Option<u64> {
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1024)
        {
            for limiter in [&self.general, &self.sensitive] {
                if limiter.len() > ADDRESSES_REMEMBERED_MAX {
                    limiter.retain_recent();
                }
            }
        }
        // The limiter's own clock: making a new one calibrates it, which cost a few percent of
        // every request.
        let now = self.general.clock().now();
        let wait = |limiter: &DefaultKeyedRateLimiter<IpAddr>| {
            limiter
                .check_key(&address)
                .err()
                .map(|not_until| not_until.wait_time_from(now).as_secs().max(1))
        };
        wait(&self.general).or_else(|| {
            if sensitive {
                wait(&self.sensitive)
            } else {
                None
            }
        })
    }
}

/// The address a request comes from: the TCP peer, unless the peer is a trusted proxy, in which
/// case the nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    header
        .split(',')
        .rev()
        .take(16)
        .filter_map(|item| item.trim().parse::<IpAddr>().ok())
        .find(|address| !trusted.contains(address))
        .unwrap_or(peer)
}

/// Whether a request is one of those that cost a hash, an SMS, or a guess at a secret.
fn is_sensitive(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && (path.starts_with("/api/v1/accounts")
            || path == "/api/v1/sessions"
            || path == "/api/v1/me/password"
            || path.starts_with("/api/v1/me/second-factor")
            || path.starts_with("/cuenta/"))
}

/// Middleware: refuses a request over its address's limits with 429 and `Retry-After`.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(PeerAddr(peer)) = request.extensions().get::<PeerAddr>().copied() else {
        return next.run(request).await;
    };
    // The USSD gateway speaks for every basic phone at once from one address: its requests are
    // limited by the gateway and, per person, by the PIN lock, not by address.
    if request.uri().path() == crate::ussd::USSD_PATH && state.ussd.is_gateway(request.headers()) {
        return next.run(request).await;
    }
    let limits = &state.rate_limits;
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok());
    let address = client_address(peer, forwarded, &limits.trusted_proxies);
    let sensitive = is_sensitive(request.method(), request.uri().path());
    if let Some(retry_after_s) = limits.check(address, sensitive) {
        let mut response = ApiError::with_detail(
            ErrorCode::RateLimited,
            format!("demasiadas peticiones desde esta dirección; espere {retry_after_s} s"),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        let header = Some("203.0.113.9, 198.51.100.7, 10.0.0.2");
        // From the proxy: the nearest untrusted address.
        assert_eq!(client_address(proxy, header, &trusted), ip("198.51.100.7"));
        // From anyone else: the peer, whatever the header claims.
        assert_eq!(
            client_address(ip("192.0.2.5"), header, &trusted),
            ip("192.0.2.5")
        );
        // A proxy without the header, or with garbage: the proxy itself.
        assert_eq!(client_address(proxy, None, &trusted), proxy);
        assert_eq!(client_address(proxy, Some("basura, ::zz"), &trusted), proxy);
    }

    #[test]
    fn limits_refuse_past_the_quota_and_sensitive_routes_sooner() {
        let limits = RateLimits::new(&RateLimitSettings {
            requests_per_minute: 5,
            sensitive_requests_per_minute: 2,
            trusted_proxies: Vec::new(),
        });
        let address = ip("192.0.2.1");
        assert!(limits.check(address, true).is_none());
        assert!(limits.check(address, true).is_none());
        assert!(
            limits.check(address, true).is_some(),
            "third sensitive request"
        );
        assert!(limits.check(address, false).is_none(), "general quota left");
        assert!(limits.check(address, false).is_none());
        let waits: Vec<_> = (0..3).map(|_| limits.check(address, false)).collect();
        assert!(waits.iter().any(Option::is_some), "{waits:?}");
        assert!(
            limits.check(ip("192.0.2.2"), true).is_none(),
            "other addresses unaffected"
        );
        assert!(is_sensitive(&Method::POST, "/api/v1/sessions"));
        assert!(!is_sensitive(&Method::GET, "/api/v1/me"));
    }
}
