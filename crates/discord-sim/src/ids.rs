//! Snowflakes, tokens and timestamps.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Issues snowflakes that are unique, increasing and non-zero, with a real
/// timestamp in the top bits so that serenity's `created_at` is meaningful.
#[derive(Debug, Default)]
pub(crate) struct IdGen {
    last: u64,
}

impl IdGen {
    pub(crate) fn next(&mut self) -> u64 {
        let now_ms = chrono::Utc::now().timestamp_millis() as u64;
        let candidate = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last = candidate.max(self.last + 1);
        self.last
    }

    /// `n` snowflakes in `n` consecutive milliseconds of their own (the
    /// latest a few milliseconds ahead at most): things made at different
    /// times, whose `id >> 22` differ.
    pub(crate) fn spread(&mut self, n: usize) -> Vec<u64> {
        let now_ms = (chrono::Utc::now().timestamp_millis() as u64).saturating_sub(DISCORD_EPOCH_MS);
        let first = now_ms.max((self.last >> 22) + 1);
        let ids: Vec<u64> = (0..n as u64).map(|k| (first + k) << 22).collect();
        if let Some(last) = ids.last() {
            self.last = *last;
        }
        ids
    }
}

/// The RFC 3339 timestamp (with offset, as serenity requires) encoded in a snowflake.
pub(crate) fn snowflake_timestamp(id: u64) -> String {
    let ms = (id >> 22) + DISCORD_EPOCH_MS;
    let at = chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default();
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// Now, as an RFC 3339 timestamp with offset.
pub(crate) fn now_timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// An unguessable-looking token. Tests never need to guess it, but a bot that
/// mixes up tokens of two interactions must fail like it would on Discord.
pub(crate) fn random_token(prefix: &str, len: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    while out.len() < prefix.len() + len {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(out.len());
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(prefix.len() + len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_increase_and_carry_their_creation_time() {
        let mut ids = IdGen::default();
        let a = ids.next();
        let b = ids.next();
        assert!(b > a && a > 0);
        let year: i32 = snowflake_timestamp(a)[..4].parse().unwrap();
        assert!(year >= 2024, "{}", snowflake_timestamp(a));
        assert!(snowflake_timestamp(a).ends_with('Z') || snowflake_timestamp(a).contains('+'));
    }

    #[test]
    fn spread_ids_are_a_millisecond_apart_and_later_ids_follow() {
        let mut ids = IdGen::default();
        let before = ids.next();
        let spread = ids.spread(4);
        assert!(spread[0] > before);
        let ms: Vec<u64> = spread.iter().map(|id| id >> 22).collect();
        assert_eq!(ms, (0..4).map(|k| ms[0] + k).collect::<Vec<_>>());
        assert!(ids.next() > spread[3]);
    }

    #[test]
    fn tokens_differ() {
        let a = random_token("t-", 40);
        assert_eq!(a.len(), 42);
        assert_ne!(a, random_token("t-", 40));
    }
}
