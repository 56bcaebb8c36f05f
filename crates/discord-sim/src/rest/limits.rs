//! Rate limits (per-route buckets and the global limit), injected faults and
//! the request log. Headers and 429 bodies follow Discord's rate-limit docs;
//! serenity's ratelimiter reads `x-ratelimit-*`, `retry-after` and
//! `x-ratelimit-global`.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::route::{RouteKey, matches};
use crate::config::{BucketLimit, RateLimitConfig};

/// A failure to inject into the next `count` requests matching `route`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Fault {
    /// `[METHOD ]/path` below `/api/v10`; `*` is one segment, `**` the rest.
    pub route: String,
    pub count: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// A 429 with `Retry-After`; `global` marks it as the global limit.
    RateLimit { retry_after: f64, global: bool },
    /// A 5xx (or any status) with Discord's generic error body.
    Status { status: u16 },
    /// The request is held for `seconds` and then served as usual: a client
    /// with a shorter timeout gives up although the request may take effect.
    Hang { seconds: f64 },
}

/// What a matched fault does to a request.
#[derive(Debug)]
pub enum FaultAction {
    Respond(Response),
    Delay(Duration),
}

impl Fault {
    pub fn rate_limit(route: &str, count: u32, retry_after: f64) -> Self {
        Self { route: route.into(), count, kind: FaultKind::RateLimit { retry_after, global: false } }
    }

    pub fn global_rate_limit(route: &str, count: u32, retry_after: f64) -> Self {
        Self { route: route.into(), count, kind: FaultKind::RateLimit { retry_after, global: true } }
    }

    pub fn server_error(route: &str, count: u32, status: u16) -> Self {
        Self { route: route.into(), count, kind: FaultKind::Status { status } }
    }

    pub fn hang(route: &str, count: u32, seconds: f64) -> Self {
        Self { route: route.into(), count, kind: FaultKind::Hang { seconds } }
    }
}

/// One REST request as the sim saw it.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path below `/api/v10`.
    pub path: String,
    pub status: u16,
    /// Milliseconds since the sim started.
    pub at_ms: u64,
    /// The 429 or error came from an injected fault.
    pub injected: bool,
}

struct Bucket {
    limit: BucketLimit,
    remaining: u32,
    reset_at: Instant,
}

pub(crate) struct HttpControl {
    config: RateLimitConfig,
    buckets: HashMap<(String, String), Bucket>,
    global: (Instant, u32),
    faults: Vec<Fault>,
    log: Vec<RequestRecord>,
    started: Instant,
}

/// What the gatekeeper should do with a request.
pub(crate) enum Verdict {
    /// Run the handler, then add these headers.
    Admit(HeaderMap),
    Reject(Response),
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn header(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).expect("ascii header value")
}

fn too_many(retry_after: Duration, global: bool, mut headers: HeaderMap) -> Response {
    headers.insert("retry-after", header(&secs(retry_after)));
    if global {
        headers.insert("x-ratelimit-global", header("true"));
        headers.insert("x-ratelimit-scope", header("global"));
    } else {
        headers.insert("x-ratelimit-scope", header("user"));
    }
    let body = json!({
        "message": "You are being rate limited.",
        "retry_after": (retry_after.as_secs_f64() * 1000.0).round() / 1000.0,
        "global": global,
        "code": 0,
    });
    (StatusCode::TOO_MANY_REQUESTS, headers, axum::Json(body)).into_response()
}

fn bucket_headers(key: &RouteKey, limit: u32, remaining: u32, reset_after: Duration) -> HeaderMap {
    let reset =
        SystemTime::now().checked_add(reset_after).and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    let mut h = HeaderMap::new();
    h.insert("x-ratelimit-limit", header(&limit.to_string()));
    h.insert("x-ratelimit-remaining", header(&remaining.to_string()));
    h.insert("x-ratelimit-reset", header(&secs(reset)));
    h.insert("x-ratelimit-reset-after", header(&secs(reset_after)));
    h.insert("x-ratelimit-bucket", header(&key.bucket_hash()));
    h
}

impl HttpControl {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            config: config.clone(),
            buckets: HashMap::new(),
            global: (Instant::now(), 0),
            faults: vec![],
            log: vec![],
            started: Instant::now(),
        }
    }

    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    pub fn set_global_limit(&mut self, per_second: Option<u32>) {
        self.config.global_per_second = per_second;
    }

    /// Takes one use of the first fault matching `key`.
    pub fn take_fault(&mut self, key: &RouteKey) -> Option<FaultAction> {
        let i = self.faults.iter().position(|f| f.count > 0 && matches(&f.route, key))?;
        let fault = &mut self.faults[i];
        fault.count -= 1;
        let kind = fault.kind.clone();
        self.faults.retain(|f| f.count > 0);
        Some(match kind {
            FaultKind::RateLimit { retry_after, global } => {
                let wait = Duration::from_secs_f64(retry_after.max(0.0));
                let limit = self.limit_for(key).limit;
                let headers = if global { HeaderMap::new() } else { bucket_headers(key, limit, 0, wait) };
                FaultAction::Respond(too_many(wait, global, headers))
            }
            FaultKind::Status { status } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let message = format!("{}: {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
                FaultAction::Respond((status, axum::Json(json!({"message": message, "code": 0}))).into_response())
            }
            FaultKind::Hang { seconds } => FaultAction::Delay(Duration::from_secs_f64(seconds.max(0.0))),
        })
    }

    fn limit_for(&self, key: &RouteKey) -> BucketLimit {
        self.config.overrides.iter().find(|o| matches(&o.pattern, key)).map_or(self.config.default_bucket, |o| o.limit)
    }

    /// Applies the global limit and the route's bucket.
    pub fn admit(&mut self, key: &RouteKey, now: Instant) -> Verdict {
        if let Some(per_second) = self.config.global_per_second.filter(|_| !key.is_interaction()) {
            let (start, count) = &mut self.global;
            if now.duration_since(*start) >= Duration::from_secs(1) {
                *start = now;
                *count = 0;
            }
            if *count >= per_second {
                let wait = (*start + Duration::from_secs(1)).saturating_duration_since(now);
                return Verdict::Reject(too_many(wait, true, HeaderMap::new()));
            }
            *count += 1;
        }
        let limit = self.limit_for(key);
        let window = Duration::from_millis(limit.window_ms);
        let bucket = self.buckets.entry((key.template.clone(), key.major.clone())).or_insert(Bucket {
            limit,
            remaining: limit.limit,
            reset_at: now + window,
        });
        if now >= bucket.reset_at {
            bucket.remaining = bucket.limit.limit;
            bucket.reset_at = now + window;
        }
        let reset_after = bucket.reset_at.saturating_duration_since(now);
        if bucket.remaining == 0 {
            let headers = bucket_headers(key, bucket.limit.limit, 0, reset_after);
            return Verdict::Reject(too_many(reset_after, false, headers));
        }
        bucket.remaining -= 1;
        Verdict::Admit(bucket_headers(key, bucket.limit.limit, bucket.remaining, reset_after))
    }

    pub fn record(&mut self, key: &RouteKey, status: StatusCode, injected: bool) {
        self.log.push(RequestRecord {
            method: key.method.clone(),
            path: key.path.clone(),
            status: status.as_u16(),
            at_ms: self.started.elapsed().as_millis() as u64,
            injected,
        });
    }

    pub fn log(&self) -> Vec<RequestRecord> {
        self.log.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(limit: u32, global: Option<u32>) -> HttpControl {
        HttpControl::new(&RateLimitConfig {
            global_per_second: global,
            default_bucket: BucketLimit { limit, window_ms: 1000 },
            overrides: vec![],
        })
    }

    fn headers_of(v: Verdict) -> HeaderMap {
        match v {
            Verdict::Admit(h) => h,
            Verdict::Reject(r) => panic!("rejected: {}", r.status()),
        }
    }

    async fn body_of(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn bucket_counts_down_then_answers_429_until_reset() {
        let mut c = control(2, None);
        let key = RouteKey::new("POST", "/channels/1/messages");
        let now = Instant::now();
        let h = headers_of(c.admit(&key, now));
        assert_eq!(h["x-ratelimit-limit"], "2");
        assert_eq!(h["x-ratelimit-remaining"], "1");
        assert_eq!(h["x-ratelimit-reset-after"], "1.000");
        assert!(h.contains_key("x-ratelimit-reset") && h.contains_key("x-ratelimit-bucket"));
        headers_of(c.admit(&key, now));
        let Verdict::Reject(r) = c.admit(&key, now + Duration::from_millis(400)) else {
            panic!("third request must be limited");
        };
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "0.600");
        assert!(r.headers().get("x-ratelimit-global").is_none());
        let body = body_of(r).await;
        assert_eq!(body["message"], "You are being rate limited.");
        assert_eq!(body["retry_after"], 0.6);
        assert_eq!(body["global"], false);
        assert_eq!(body["code"], 0);
        // Another channel is another bucket; after the reset the bucket refills.
        headers_of(c.admit(&RouteKey::new("POST", "/channels/2/messages"), now));
        headers_of(c.admit(&key, now + Duration::from_millis(1000)));
    }

    #[tokio::test]
    async fn global_limit_spares_interaction_routes() {
        let mut c = control(100, Some(2));
        let now = Instant::now();
        headers_of(c.admit(&RouteKey::new("GET", "/users/@me"), now));
        headers_of(c.admit(&RouteKey::new("GET", "/users/1"), now));
        let Verdict::Reject(r) = c.admit(&RouteKey::new("GET", "/users/2"), now) else {
            panic!("global limit");
        };
        assert_eq!(r.headers()["x-ratelimit-global"], "true");
        assert_eq!(body_of(r).await["global"], true);
        headers_of(c.admit(&RouteKey::new("POST", "/interactions/1/tok/callback"), now));
    }

    #[tokio::test]
    async fn faults_fire_count_times() {
        let mut c = control(100, None);
        c.inject(Fault::server_error("POST /channels/*/messages", 2, 502));
        let key = RouteKey::new("POST", "/channels/9/messages");
        let Some(FaultAction::Respond(r)) = c.take_fault(&key) else { panic!("a response") };
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        assert!(c.take_fault(&RouteKey::new("GET", "/channels/9/messages")).is_none());
        assert!(c.take_fault(&key).is_some());
        assert!(c.take_fault(&key).is_none());
        c.inject(Fault::rate_limit("/channels/**", 1, 0.25));
        let Some(FaultAction::Respond(r)) = c.take_fault(&key) else { panic!("a response") };
        assert_eq!(r.headers()["retry-after"], "0.250");
        assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
        c.inject(Fault::hang("/channels/**", 1, 1.5));
        assert!(matches!(c.take_fault(&key), Some(FaultAction::Delay(d)) if d == Duration::from_millis(1500)));
    }
}
