//! The fault rules: labrpc's network semantics as data and one pure decision.
//!
//! Every constant is labrpc.go's (MIT 6.824), named here with what it models.

use rand::Rng;
use std::time::Duration;

/// Unreliable network: each request first waits up to this long (labrpc: `rand.Int() % 27` ms).
pub const UNRELIABLE_MAX_DELAY_MS: u64 = 26;
/// Unreliable network: requests dropped per mille (labrpc: `rand.Int()%1000 < 100`).
pub const UNRELIABLE_DROP_REQUEST_PER_MILLE: u32 = 100;
/// Unreliable network: replies dropped per mille, after the handler ran.
pub const UNRELIABLE_DROP_REPLY_PER_MILLE: u32 = 100;
/// Long reordering: this many of every [`REORDER_OUT_OF`] replies are held back.
pub const REORDER_HELD: u32 = 600;
/// Long reordering: see [`REORDER_HELD`].
pub const REORDER_OUT_OF: u32 = 900;
/// Long reordering: a held reply waits at least this long …
pub const REORDER_MIN_MS: u64 = 200;
/// … plus `rand(1 + rand(REORDER_SPREAD_MS))` ms, skewed short.
pub const REORDER_SPREAD_MS: u64 = 2000;
/// A call to a disconnected or dead peer fails after up to this long in the
/// Raft tests (labrpc's long delays: `rand.Int() % 7000` ms).
pub const LONG_LOSS_DELAY_MS: u64 = 7000;
/// The same in the KV tests (short delays: `rand.Int() % 100` ms).
pub const SHORT_LOSS_DELAY_MS: u64 = 100;

/// Stale copies (beyond labrpc, whose network never delivers a request
/// twice): this many per mille of the requests delivered are delivered
/// again later, as a real network that retransmits or reorders may.
pub const STALE_COPY_PER_MILLE: u32 = 50;
/// A stale copy reaches the server at least this long after its original …
pub const STALE_MIN_MS: u64 = 100;
/// … plus up to this long: past newer traffic on the same link (a leader
/// sends to each peer at least every 100 ms).
pub const STALE_SPREAD_MS: u64 = 900;
/// Of the stale copies, this many per mille carry the caller's answer: the
/// original's answer is dropped, and the caller hears the copy's, late. The
/// other copies' answers are dropped (the caller had the original's).
pub const STALE_ANSWERED_PER_MILLE: u32 = 500;

/// The network's mode, set by the test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// Deliver everything with no added delay.
    pub reliable: bool,
    /// Hold back most replies for a long, random time.
    pub long_reordering: bool,
    /// Calls to unreachable peers fail after up to 7 s (else up to 100 ms).
    pub long_delays: bool,
    /// Deliver some requests a second time, late ([`stale_copy`]).
    pub stale: bool,
}

impl Default for Mode {
    fn default() -> Mode {
        Mode { reliable: true, long_reordering: false, long_delays: true, stale: false }
    }
}

/// A second delivery of a request, decided when the request is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleCopy {
    /// How long after the original the copy reaches the server.
    pub after: Duration,
    /// Whether the copy's answer is the one the caller gets (the
    /// original's is dropped); otherwise the copy's answer is dropped.
    pub answers: bool,
}

/// What happens to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestVerdict {
    /// Deliver to the server after this delay.
    Deliver(Duration),
    /// Never deliver; tell the caller it was lost after this delay.
    Lose(Duration),
}

/// What happens to a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyVerdict {
    /// Deliver to the caller after this delay.
    Deliver(Duration),
    /// Drop it; the caller sees a loss now.
    Lose,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Decides a request's fate. `reachable`: the link is enabled and the server is alive.
pub fn request_verdict(mode: Mode, reachable: bool, rng: &mut impl Rng) -> RequestVerdict {
    if !reachable {
        let max = if mode.long_delays { LONG_LOSS_DELAY_MS } else { SHORT_LOSS_DELAY_MS };
        return RequestVerdict::Lose(ms(rng.random_range(0..max)));
    }
    if mode.reliable {
        return RequestVerdict::Deliver(Duration::ZERO);
    }
    let delay = ms(rng.random_range(0..=UNRELIABLE_MAX_DELAY_MS));
    if rng.random_range(0..1000) < UNRELIABLE_DROP_REQUEST_PER_MILLE {
        RequestVerdict::Lose(delay)
    } else {
        RequestVerdict::Deliver(delay)
    }
}

/// Decides a reply's fate. `reachable`: the link is still enabled and the
/// server is the same incarnation that received the request.
pub fn reply_verdict(mode: Mode, reachable: bool, rng: &mut impl Rng) -> ReplyVerdict {
    if !reachable {
        return ReplyVerdict::Lose;
    }
    if !mode.reliable && rng.random_range(0..1000) < UNRELIABLE_DROP_REPLY_PER_MILLE {
        return ReplyVerdict::Lose;
    }
    if mode.long_reordering && rng.random_range(0..REORDER_OUT_OF) < REORDER_HELD {
        let spread = rng.random_range(0..=REORDER_SPREAD_MS);
        return ReplyVerdict::Deliver(ms(REORDER_MIN_MS + rng.random_range(0..=spread)));
    }
    ReplyVerdict::Deliver(Duration::ZERO)
}

/// Decides whether a request being delivered is delivered again later, and
/// how. Draws nothing unless the mode has stale copies, so the other modes'
/// seeded choices stay as they were.
pub fn stale_copy(mode: Mode, rng: &mut impl Rng) -> Option<StaleCopy> {
    if !mode.stale || rng.random_range(0..1000) >= STALE_COPY_PER_MILLE {
        return None;
    }
    let after = ms(STALE_MIN_MS + rng.random_range(0..=STALE_SPREAD_MS));
    Some(StaleCopy { after, answers: rng.random_range(0..1000) < STALE_ANSWERED_PER_MILLE })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const N: u32 = 100_000;

    fn unreliable() -> Mode {
        Mode { reliable: false, ..Mode::default() }
    }

    #[test]
    fn unreliable_drops_about_ten_percent_of_requests_within_their_delay() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut lost = 0;
        for _ in 0..N {
            let verdict = request_verdict(unreliable(), true, &mut rng);
            let (RequestVerdict::Lose(d) | RequestVerdict::Deliver(d)) = verdict;
            assert!(d <= ms(UNRELIABLE_MAX_DELAY_MS), "{d:?}");
            lost += matches!(verdict, RequestVerdict::Lose(_)) as u32;
        }
        // 10% of 100,000 has a standard deviation near 95; allow 5 of them.
        assert!((9_525..=10_475).contains(&lost), "{lost} requests lost of {N}");
    }

    #[test]
    fn unreliable_drops_about_ten_percent_of_replies() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let lost =
            (0..N).filter(|_| reply_verdict(unreliable(), true, &mut rng) == ReplyVerdict::Lose).count();
        assert!((9_525..=10_475).contains(&lost), "{lost} replies lost of {N}");
    }

    #[test]
    fn stale_copies_come_one_in_twenty_late_half_of_them_answering() {
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let mode = Mode { stale: true, ..Mode::default() };
        let copies: Vec<StaleCopy> = (0..N).filter_map(|_| stale_copy(mode, &mut rng)).collect();
        // 5% of 100,000 has a standard deviation near 69; allow 5 of them.
        assert!((4_655..=5_345).contains(&copies.len()), "{} copies of {N}", copies.len());
        for c in &copies {
            assert!(c.after >= ms(STALE_MIN_MS) && c.after <= ms(STALE_MIN_MS + STALE_SPREAD_MS), "{c:?}");
        }
        let answering = copies.iter().filter(|c| c.answers).count();
        assert!((2_300..=2_700).contains(&answering), "{answering} answering copies of {}", copies.len());
    }

    #[test]
    fn no_stale_copy_and_no_draw_unless_the_mode_has_them() {
        let mut a = ChaCha8Rng::seed_from_u64(11);
        let b = a.clone();
        assert!((0..1000).all(|_| stale_copy(Mode::default(), &mut a).is_none()));
        assert_eq!(a, b, "a mode without stale copies must not draw");
    }

    #[test]
    fn long_reordering_holds_two_thirds_for_200_to_2200_ms() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mode = Mode { long_reordering: true, ..Mode::default() };
        let mut held = 0;
        for _ in 0..N {
            let ReplyVerdict::Deliver(d) = reply_verdict(mode, true, &mut rng) else {
                panic!("reliable lost")
            };
            if d > Duration::ZERO {
                held += 1;
                assert!(d >= ms(REORDER_MIN_MS) && d <= ms(REORDER_MIN_MS + REORDER_SPREAD_MS), "{d:?}");
            }
        }
        assert!((66_200..=67_130).contains(&held), "{held} held of {N}");
    }

    #[test]
    fn unreachable_calls_are_all_lost_after_long_or_short_delays() {
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let short = Mode { long_delays: false, ..Mode::default() };
        let mut longest = Duration::ZERO;
        for _ in 0..10_000 {
            let RequestVerdict::Lose(d) = request_verdict(Mode::default(), false, &mut rng) else { panic!() };
            assert!(d < ms(LONG_LOSS_DELAY_MS));
            longest = longest.max(d);
            let RequestVerdict::Lose(d) = request_verdict(short, false, &mut rng) else { panic!() };
            assert!(d < ms(SHORT_LOSS_DELAY_MS));
        }
        assert!(longest > ms(6_000), "long delays reach toward 7 s, got {longest:?}");
        assert_eq!(reply_verdict(Mode::default(), false, &mut rng), ReplyVerdict::Lose);
    }

    #[test]
    fn reliable_delivers_everything_at_once() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..10_000 {
            assert_eq!(
                request_verdict(Mode::default(), true, &mut rng),
                RequestVerdict::Deliver(Duration::ZERO)
            );
            assert_eq!(reply_verdict(Mode::default(), true, &mut rng), ReplyVerdict::Deliver(Duration::ZERO));
        }
    }
}
