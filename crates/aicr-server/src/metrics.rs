//! Prometheus metrics in the text exposition format. Requests are counted
//! by route template (`/v1/recipe`, or `other` for unknown paths), never
//! by raw path, so the series stay bounded whatever clients send.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Prometheus' default histogram buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    pub in_flight: AtomicI64,
    pub rate_limit_rejects: AtomicU64,
    pub panics: AtomicU64,
    pub recipe_memo_hits: AtomicU64,
    pub recipe_memo_misses: AtomicU64,
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    durations: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
}

impl Metrics {
    /// Records one finished request.
    pub fn record(&self, method: &'static str, route: &'static str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method, route, status))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let mut durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        let h = durations.entry((method, route)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "aicr_http_requests_in_flight",
            "Requests being served.",
            "gauge",
            self.in_flight.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "aicr_rate_limit_rejects_total",
            "Requests refused by the rate limit.",
            "counter",
            self.rate_limit_rejects.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "aicr_panic_recoveries_total",
            "Handlers that panicked and were answered with 500.",
            "counter",
            self.panics.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "aicr_recipe_cache_hits_total",
            "Recipe requests served from the memo.",
            "counter",
            self.recipe_memo_hits.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut out,
            "aicr_recipe_cache_misses_total",
            "Recipe requests that resolved a recipe.",
            "counter",
            self.recipe_memo_misses.load(Ordering::Relaxed).to_string(),
        );
        out.push_str("# HELP aicr_http_requests_total Requests served.\n# TYPE aicr_http_requests_total counter\n");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "aicr_http_requests_total{{method=\"{method}\",path=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP aicr_http_request_duration_seconds Time to serve a request.\n# TYPE aicr_http_request_duration_seconds histogram\n");
        for ((method, route), h) in self
            .durations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let labels = format!("method=\"{method}\",path=\"{route}\"");
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "aicr_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "aicr_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\naicr_http_request_duration_seconds_sum{{{labels}}} {}\naicr_http_request_duration_seconds_count{{{labels}}} {}",
                h.count, h.sum, h.count
            );
        }
        out
    }
}
