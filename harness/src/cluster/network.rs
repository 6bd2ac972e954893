//! The cluster's connections: 6.824's connect and disconnect. The modes,
//! counters and one-way faults every cluster type shares are
//! [`crate::SessionVerbs`].

use super::Cluster;
use crate::verbs::SessionVerbs;

impl Cluster {
    /// Connects peer `i` to every connected peer, both ways.
    pub fn connect(&self, i: usize) {
        let mut connected = self.connected.lock().expect("connected lock");
        connected[i] = true;
        for j in 0..self.n() {
            if connected[j] {
                self.session.net().set_link(i as u32, j, true);
                self.session.net().set_link(j as u32, i, true);
            }
        }
        self.session.record(format!("connect {i}"));
    }

    /// Cuts peer `i` off from every peer, both ways. Calls in flight to or
    /// from it are lost. Independent of the one-way faults
    /// ([`SessionVerbs::mute`] and the rest).
    pub fn disconnect(&self, i: usize) {
        let mut connected = self.connected.lock().expect("connected lock");
        connected[i] = false;
        for j in 0..self.n() {
            self.session.net().set_link(i as u32, j, false);
            self.session.net().set_link(j as u32, i, false);
        }
        self.session.record(format!("disconnect {i}"));
    }
}
