//! One token bucket for the whole process (the reference's global limit).

use std::sync::Mutex;
use std::time::Instant;

pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// The limit and burst, for headers and error details.
    pub fn limits(&self) -> (f64, f64) {
        (self.rate, self.burst)
    }

    /// Takes one token: the whole tokens left, or None when empty.
    pub fn take(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, last) = *state;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
        if tokens < 1.0 {
            *state = (tokens, now);
            return None;
        }
        *state = (tokens - 1.0, now);
        Some((tokens - 1.0).floor() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_serves_its_burst_then_refuses() {
        let bucket = TokenBucket::new(0.001, 3);
        assert_eq!(bucket.take(), Some(2));
        assert_eq!(bucket.take(), Some(1));
        assert_eq!(bucket.take(), Some(0));
        assert_eq!(bucket.take(), None);
    }
}
