//! The cluster's network verbs: 6.824's connect and disconnect, its
//! unreliable and reordering modes, and the one-way faults and late
//! deliveries the scripted tests use.

use super::{Cluster, REPLAY_WAIT};
use crate::net::rules::Mode;
use std::time::Duration;

impl Cluster {
    /// Connects peer `i` to every connected peer, both ways.
    pub fn connect(&self, i: usize) {
        let mut connected = self.connected.lock().expect("connected lock");
        connected[i] = true;
        for j in 0..self.n() {
            if connected[j] {
                self.nodes.net.set_link(i as u32, j, true);
                self.nodes.net.set_link(j as u32, i, true);
            }
        }
        self.nodes.timeline.record(format!("connect {i}"));
    }

    /// Cuts peer `i` off from every peer, both ways. Calls in flight to or
    /// from it are lost.
    pub fn disconnect(&self, i: usize) {
        let mut connected = self.connected.lock().expect("connected lock");
        connected[i] = false;
        for j in 0..self.n() {
            self.nodes.net.set_link(i as u32, j, false);
            self.nodes.net.set_link(j as u32, i, false);
        }
        self.nodes.timeline.record(format!("disconnect {i}"));
    }

    /// Mutes peer `i` (or lifts the mute): every new call to or from it is
    /// lost, but calls it has already received are still answered, so an
    /// acknowledgement already on its way arrives. Independent of
    /// [`Cluster::connect`] / [`Cluster::disconnect`].
    pub fn mute(&self, i: usize, muted: bool) {
        for j in self.others(i) {
            self.nodes.net.set_requests_blocked(i as u32, j, muted);
            self.nodes.net.set_requests_blocked(j as u32, i, muted);
        }
        self.nodes.timeline.record(format!("mute {i} {muted}"));
    }

    /// Blocks (or unblocks) new calls from `caller` to `server`, one way:
    /// while blocked each is lost, but calls `server` already received are
    /// still answered.
    pub fn block_calls(&self, caller: usize, server: usize, blocked: bool) {
        self.nodes.net.set_requests_blocked(caller as u32, server, blocked);
        self.nodes.timeline.record(format!("calls {caller}->{server} blocked {blocked}"));
    }

    /// Delays the answers `server` sends to `caller` by `delay` (zero lifts
    /// it); the requests themselves are not delayed. Answers already on
    /// their way keep their delay.
    pub fn delay_replies(&self, caller: usize, server: usize, delay: Duration) {
        self.nodes.net.set_reply_delay(caller as u32, server, delay);
        self.nodes.timeline.record(format!("replies {server}->{caller} delayed {delay:?}"));
    }

    /// Holds (or stops holding) the `method` requests `caller` sends to
    /// `server`: each is kept instead of delivered, and the caller sees it
    /// lost at once. [`Cluster::replay_held`] delivers them later, stale.
    pub fn hold_requests(&self, caller: usize, server: usize, method: &str, held: bool) {
        self.nodes.net.set_requests_held(caller as u32, server, method, held);
        self.nodes.timeline.record(format!("{method} calls {caller}->{server} held {held}"));
    }

    /// Holds (or releases) every answer `server` sends to `caller`: while
    /// held they are kept; releasing delivers them all at once, late.
    pub fn hold_replies(&self, caller: usize, server: usize, held: bool) {
        self.nodes.net.set_replies_held(caller as u32, server, held);
        self.nodes.timeline.record(format!("replies {server}->{caller} held {held}"));
    }

    /// How many answers from `server` to `caller` are held.
    pub fn held_replies(&self, caller: usize, server: usize) -> usize {
        self.nodes.net.held_replies(caller as u32, server)
    }

    /// How many `method` requests from `caller` to `server` are held.
    pub fn held_count(&self, caller: usize, server: usize, method: &str) -> usize {
        self.nodes.net.held_count(caller as u32, server, method)
    }

    /// Delivers the held `method` requests from `caller` to `server` now,
    /// oldest first, each after the one before was answered (their answers
    /// go nowhere), and returns how many were answered within a second.
    /// They stay held, for another replay, until [`Cluster::clear_held`].
    pub fn replay_held(&self, caller: usize, server: usize, method: &str) -> usize {
        let answered =
            self.nodes.rt.block_on(self.nodes.net.replay_held(caller as u32, server, method, REPLAY_WAIT));
        self.nodes
            .timeline
            .record(format!("{method} calls {caller}->{server} replayed: {answered} answered"));
        answered
    }

    /// Forgets the requests held from `caller` to `server`.
    pub fn clear_held(&self, caller: usize, server: usize) {
        self.nodes.net.clear_held(caller as u32, server);
    }

    /// Lifts every one-way fault at once — [`Cluster::mute`],
    /// [`Cluster::block_calls`], [`Cluster::delay_replies`],
    /// [`Cluster::hold_requests`] (what was held is forgotten),
    /// [`Cluster::hold_replies`] (what was held is delivered) — leaving
    /// connections as they are.
    pub fn lift_one_way_faults(&self) {
        self.nodes.net.lift_one_way_faults();
        self.nodes.timeline.record("one-way faults lifted");
    }

    /// Unreliable network: requests delayed 0–26 ms, 10% of requests and 10%
    /// of replies lost.
    pub fn set_unreliable(&self, unreliable: bool) {
        let mode = self.nodes.net.mode();
        self.nodes.net.set_mode(Mode { reliable: !unreliable, ..mode });
        self.nodes.timeline.record(format!("unreliable {unreliable}"));
    }

    /// Long reordering: 2 of 3 replies held 200–2200 ms.
    pub fn set_long_reordering(&self, on: bool) {
        let mode = self.nodes.net.mode();
        self.nodes.net.set_mode(Mode { long_reordering: on, ..mode });
        self.nodes.timeline.record(format!("long reordering {on}"));
    }

    /// Calls made so far, delivered or not (labrpc's `GetTotalCount`).
    pub fn rpc_total(&self) -> u64 {
        self.nodes.net.stats().total_calls()
    }

    /// Requests delivered to peer `i` so far (labrpc's `GetCount`).
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.nodes.net.stats().delivered_to(i)
    }

    /// Requests for `method` delivered to peer `i` so far.
    pub fn rpc_count_method(&self, i: usize, method: &str) -> u64 {
        self.nodes.net.stats().delivered_method(i, method)
    }

    /// Payload bytes carried so far (labrpc's `GetTotalBytes`).
    pub fn bytes_total(&self) -> u64 {
        self.nodes.net.stats().total_bytes()
    }
}
