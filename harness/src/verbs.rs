//! The verbs every cluster type shares, written once over its
//! [`Session`]: the story's bookkeeping, the test's seeded generator, the
//! node processes, and the one-way faults the scripted tests tell their
//! stories with.
//!
//! The fault verbs take *sets* of peers and come in pairs that undo each
//! other, so one call states one step of a story:
//!
//! | fault                                   | undone by                         |
//! |-----------------------------------------|-----------------------------------|
//! | [`partition_oneway`](SessionVerbs::partition_oneway)`(&from, &to)` | [`repair_oneway`](SessionVerbs::repair_oneway)`(&from, &to)` |
//! | [`mute`](SessionVerbs::mute)`(&peers)`  | [`unmute`](SessionVerbs::unmute)`(&peers)` |
//! | [`hold_calls`](SessionVerbs::hold_calls)`(&from, &to, method)` | [`stop_holding_calls`](SessionVerbs::stop_holding_calls) (then [`replay_held`](SessionVerbs::replay_held) or [`forget_held`](SessionVerbs::forget_held)) |
//! | [`hold_replies`](SessionVerbs::hold_replies)`(&callers, &servers)` | [`release_replies`](SessionVerbs::release_replies) (delivers them) |
//! | [`delay_replies`](SessionVerbs::delay_replies)`(&callers, &servers, d)` | [`undelay_replies`](SessionVerbs::undelay_replies) |
//!
//! and [`lift_one_way_faults`](SessionVerbs::lift_one_way_faults) undoes them
//! all. A pair `(from, to)` with `from == to` is skipped: a peer does not
//! call itself. None of them touches connections (a cluster type's
//! `connect` / `disconnect`).

use crate::failure::TestResult;
use crate::net::EndId;
use crate::net::rules::Mode;
use crate::session::Session;
use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::distr::{Distribution, StandardUniform};
use std::time::Duration;

/// How long [`SessionVerbs::replay_held`] waits for the answers.
pub const REPLAY_WAIT: Duration = Duration::from_secs(1);

/// Every (from, to) pair of two sets, but a peer and itself.
fn pairs<'a>(from: &'a [usize], to: &'a [usize]) -> impl Iterator<Item = (usize, usize)> + 'a {
    from.iter().flat_map(move |&f| to.iter().filter(move |&&t| t != f).map(move |&t| (f, t)))
}

/// A set of peers as the timeline shows it: `0`, `{0,2}`.
fn show(peers: &[usize]) -> String {
    match peers {
        [one] => one.to_string(),
        _ => format!("{{{}}}", peers.iter().map(usize::to_string).collect::<Vec<_>>().join(",")),
    }
}

/// The verbs of a test's [`Session`] that every cluster type offers: a
/// cluster type implements [`SessionVerbs::session`] and has them all.
pub trait SessionVerbs {
    /// The test's session.
    fn session(&self) -> &Session;

    // ---- the story ----

    /// Starts the story: prints `title …` and notes the counters (see
    /// [`Session::begin`]).
    fn begin(&self, title: &str) {
        self.session().begin(title);
    }

    /// Fails with the first invariant violation or problem seen so far
    /// ([`Session::check_invariants`]).
    fn check_invariants(&self) -> TestResult {
        self.session().check_invariants()
    }

    // ---- the seeded generator ----

    /// A random value in `range`, from the test's seeded generator.
    fn random_range<T: SampleUniform, R: SampleRange<T>>(&self, range: R) -> T {
        self.session().random_range(range)
    }

    /// A random value of any type the standard distribution covers.
    fn random<T>(&self) -> T
    where
        StandardUniform: Distribution<T>,
    {
        self.session().random()
    }

    /// True with probability `per_mille` / 1000 (6.824's `rand.Int() % 1000 < per_mille`).
    fn chance(&self, per_mille: u64) -> bool {
        self.session().chance(per_mille)
    }

    /// `len` random lowercase letters.
    fn random_text(&self, len: usize) -> Vec<u8> {
        self.session().random_text(len)
    }

    // ---- peers ----

    /// Number of peers (servers).
    fn n(&self) -> usize {
        self.session().nodes().len()
    }

    /// All peers, in order.
    fn all(&self) -> Vec<usize> {
        (0..self.n()).collect()
    }

    /// Every peer but `i`.
    fn others(&self, i: usize) -> Vec<usize> {
        (0..self.n()).filter(|&j| j != i).collect()
    }

    /// Whether peer `i` has a running process.
    fn is_alive(&self, i: usize) -> bool {
        self.session().nodes().is_alive(i)
    }

    /// Pauses peer `i` (SIGSTOP of its processes): it stays connected, but
    /// does nothing, its timers included, until [`SessionVerbs::resume`];
    /// what is sent to it waits. Verbs that ask peers skip it meanwhile, as
    /// if it were not running.
    fn pause(&self, i: usize) {
        self.session().nodes().pause(i);
    }

    /// Resumes peer `i` after [`SessionVerbs::pause`].
    fn resume(&self, i: usize) {
        self.session().nodes().resume(i);
    }

    /// Gives peer `i` a slow disk ([`crate::nodes::Nodes::slow_disk`]): each
    /// later save waits `delay` before it writes, until the peer restarts.
    fn slow_disk(&self, i: usize, delay: Duration) -> TestResult {
        let s = self.session();
        s.nodes().slow_disk(i, delay).map_err(|f| s.failed(f))
    }

    /// The RPC handlers peer `i` has started and not answered: each one's
    /// method and how long it has run.
    fn handlers_in_flight(&self, i: usize) -> TestResult<Vec<(String, Duration)>> {
        let s = self.session();
        s.nodes().handlers_in_flight(i).map_err(|f| s.failed(f))
    }

    /// The largest Raft state saved by any peer, in bytes, read from the
    /// data directories.
    fn log_size(&self) -> TestResult<u64> {
        Ok(self.session().nodes().max_stored_sizes()?.raft_state)
    }

    /// The largest snapshot saved by any peer, in bytes.
    fn snapshot_size(&self) -> TestResult<u64> {
        Ok(self.session().nodes().max_stored_sizes()?.snapshot)
    }

    /// The log file of peer `i`.
    fn log_path(&self, i: usize) -> std::path::PathBuf {
        self.session().nodes().log_path(i)
    }

    /// The test's directory (sockets, data directories, logs).
    fn dir(&self) -> &std::path::Path {
        self.session().dir()
    }

    /// PIDs of the running node processes.
    fn pids(&self) -> Vec<u32> {
        self.session().nodes().pids()
    }

    // ---- the network's modes and counters ----

    /// Unreliable network on or off: requests delayed 0–26 ms, 10% of
    /// requests and 10% of replies lost.
    fn set_unreliable(&self, unreliable: bool) {
        let s = self.session();
        s.net().set_mode(Mode { reliable: !unreliable, ..s.net().mode() });
        s.record(format!("unreliable {unreliable}"));
    }

    /// Long reordering on or off: 2 of 3 replies held 200–2200 ms.
    fn set_long_reordering(&self, on: bool) {
        let s = self.session();
        s.net().set_mode(Mode { long_reordering: on, ..s.net().mode() });
        s.record(format!("long reordering {on}"));
    }

    /// Stale copies on or off (beyond labrpc): one in twenty delivered
    /// requests is delivered again 0.1–1 s later, past newer traffic on
    /// its link; half of those copies' answers are the ones their callers
    /// get, late (the original's dropped), the others' are dropped. See
    /// [`crate::net::rules::stale_copy`].
    fn set_stale(&self, on: bool) {
        let s = self.session();
        s.net().set_mode(Mode { stale: on, ..s.net().mode() });
        s.record(format!("stale copies {on}"));
    }

    /// Calls made so far, delivered or not (labrpc's `GetTotalCount`).
    fn rpc_total(&self) -> u64 {
        self.session().net().stats().total_calls()
    }

    /// Requests delivered to peer `i` so far (labrpc's `GetCount`).
    fn rpc_count(&self, i: usize) -> u64 {
        self.session().net().stats().delivered_to(i)
    }

    /// Requests for `method` delivered to peer `i` so far.
    fn rpc_count_method(&self, i: usize, method: &str) -> u64 {
        self.session().net().stats().delivered_method(i, method)
    }

    /// Payload bytes carried so far (labrpc's `GetTotalBytes`).
    fn bytes_total(&self) -> u64 {
        self.session().net().stats().total_bytes()
    }

    // ---- one-way faults, over sets, in pairs ----

    /// Every new call from a peer in `from` to a peer in `to` is lost, one
    /// way, until [`SessionVerbs::repair_oneway`]; calls already received
    /// are still answered, and calls the other way pass.
    fn partition_oneway(&self, from: &[usize], to: &[usize]) {
        set_blocked(self.session(), from, to, true);
    }

    /// Undoes [`SessionVerbs::partition_oneway`] for these pairs.
    fn repair_oneway(&self, from: &[usize], to: &[usize]) {
        set_blocked(self.session(), from, to, false);
    }

    /// Mutes `peers`: every new call to or from them is lost, but calls
    /// they have already received are still answered, so an
    /// acknowledgement already on its way arrives. Until
    /// [`SessionVerbs::unmute`].
    fn mute(&self, peers: &[usize]) {
        set_muted(self.session(), self.n(), peers, true);
    }

    /// Undoes [`SessionVerbs::mute`] — and any
    /// [`SessionVerbs::partition_oneway`] between these peers and any other.
    fn unmute(&self, peers: &[usize]) {
        set_muted(self.session(), self.n(), peers, false);
    }

    /// Holds the `method` requests each peer in `from` sends to each peer
    /// in `to`: each is kept instead of delivered, and its caller sees it
    /// lost at once. [`SessionVerbs::replay_held`] delivers them later,
    /// stale.
    fn hold_calls(&self, from: &[usize], to: &[usize], method: &str) {
        set_held(self.session(), from, to, method, true);
    }

    /// Stops holding the `method` requests of [`SessionVerbs::hold_calls`]:
    /// new ones are delivered; those already held stay held, for
    /// [`SessionVerbs::replay_held`], until [`SessionVerbs::forget_held`].
    fn stop_holding_calls(&self, from: &[usize], to: &[usize], method: &str) {
        set_held(self.session(), from, to, method, false);
    }

    /// How many `method` requests from `caller` to `server` are held.
    fn held_calls(&self, caller: usize, server: usize, method: &str) -> usize {
        self.session().net().held_count(caller as EndId, server, method)
    }

    /// Delivers the held `method` requests from `caller` to `server` now,
    /// oldest first, each after the one before was answered (their answers
    /// go nowhere), and returns how many were answered within
    /// [`REPLAY_WAIT`]. They stay held, for another replay, until
    /// [`SessionVerbs::forget_held`].
    fn replay_held(&self, caller: usize, server: usize, method: &str) -> usize {
        let s = self.session();
        let answered = s.block_on(s.net().replay_held(caller as EndId, server, method, REPLAY_WAIT));
        s.record(format!("{method} calls {caller}->{server} replayed: {answered} answered"));
        answered
    }

    /// Forgets the requests held from each peer in `from` to each in `to`.
    fn forget_held(&self, from: &[usize], to: &[usize]) {
        let s = self.session();
        for (f, t) in pairs(from, to) {
            s.net().clear_held(f as EndId, t);
        }
        s.record(format!("held calls {}->{} forgotten", show(from), show(to)));
    }

    /// Holds every answer the peers in `servers` send to the peers in
    /// `callers`: while held they are kept, until
    /// [`SessionVerbs::release_replies`] delivers them all at once, late.
    fn hold_replies(&self, callers: &[usize], servers: &[usize]) {
        set_replies_held(self.session(), callers, servers, true);
    }

    /// Delivers the answers [`SessionVerbs::hold_replies`] kept, and stops
    /// holding.
    fn release_replies(&self, callers: &[usize], servers: &[usize]) {
        set_replies_held(self.session(), callers, servers, false);
    }

    /// How many answers from `server` to `caller` are held.
    fn held_replies(&self, caller: usize, server: usize) -> usize {
        self.session().net().held_replies(caller as EndId, server)
    }

    /// Delays the answers the peers in `servers` send to the peers in
    /// `callers` by `delay`, until [`SessionVerbs::undelay_replies`]; the
    /// requests themselves are not delayed.
    fn delay_replies(&self, callers: &[usize], servers: &[usize], delay: Duration) {
        set_reply_delay(self.session(), callers, servers, delay);
    }

    /// Undoes [`SessionVerbs::delay_replies`]; answers already on their way
    /// keep their delay.
    fn undelay_replies(&self, callers: &[usize], servers: &[usize]) {
        set_reply_delay(self.session(), callers, servers, Duration::ZERO);
    }

    /// Lifts every one-way fault at once — blocked and muted calls,
    /// delayed replies, held calls (what was held is forgotten), held
    /// replies (what was held is delivered) — leaving connections as they
    /// are.
    fn lift_one_way_faults(&self) {
        let s = self.session();
        s.net().lift_one_way_faults();
        s.record("one-way faults lifted");
    }
}

fn set_blocked(s: &Session, from: &[usize], to: &[usize], blocked: bool) {
    for (f, t) in pairs(from, to) {
        s.net().set_requests_blocked(f as EndId, t, blocked);
    }
    let verb = if blocked { "partition" } else { "repair" };
    s.record(format!("{verb} calls {}->{}", show(from), show(to)));
}

fn set_muted(s: &Session, n: usize, peers: &[usize], muted: bool) {
    let all: Vec<usize> = (0..n).collect();
    for (f, t) in pairs(peers, &all) {
        s.net().set_requests_blocked(f as EndId, t, muted);
        s.net().set_requests_blocked(t as EndId, f, muted);
    }
    s.record(format!("{} {}", if muted { "mute" } else { "unmute" }, show(peers)));
}

fn set_held(s: &Session, from: &[usize], to: &[usize], method: &str, held: bool) {
    for (f, t) in pairs(from, to) {
        s.net().set_requests_held(f as EndId, t, method, held);
    }
    let verb = if held { "hold" } else { "stop holding" };
    s.record(format!("{verb} {method} calls {}->{}", show(from), show(to)));
}

fn set_replies_held(s: &Session, callers: &[usize], servers: &[usize], held: bool) {
    for (c, v) in pairs(callers, servers) {
        s.net().set_replies_held(c as EndId, v, held);
    }
    let verb = if held { "hold" } else { "release" };
    s.record(format!("{verb} replies {}->{}", show(servers), show(callers)));
}

fn set_reply_delay(s: &Session, callers: &[usize], servers: &[usize], delay: Duration) {
    for (c, v) in pairs(callers, servers) {
        s.net().set_reply_delay(c as EndId, v, delay);
    }
    s.record(format!("replies {}->{} delayed {delay:?}", show(servers), show(callers)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_cover_both_sets_but_never_a_peer_and_itself() {
        let got: Vec<_> = pairs(&[0, 1], &[1, 2]).collect();
        assert_eq!(got, vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(pairs(&[3], &[3]).count(), 0);
        assert_eq!(pairs(&[], &[1, 2]).count(), 0);
    }

    #[test]
    fn sets_read_as_the_timeline_shows_them() {
        assert_eq!(show(&[2]), "2");
        assert_eq!(show(&[0, 2]), "{0,2}");
        assert_eq!(show(&[]), "{}");
    }
}
