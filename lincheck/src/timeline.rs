//! The search's working list: the call and return entries of the operations
//! not yet linearized, in real-time order, as a doubly linked list from which
//! an operation is lifted (both entries) and restored in O(1).

use crate::history::Operation;

/// Entry kinds are packed into the top bit of the operation number.
const RETURN_FLAG: u32 = 1 << 31;

/// The call/return entries of one part of a history.
///
/// Entries `0..2n` are sorted by time, calls before returns on equal times,
/// pending returns last; entry `2n` is the list's sentinel (head and tail).
///
/// Invariant: every operation still in the list has its call entry before
/// its return entry, so a non-empty list always ends with a return.
pub(crate) struct Timeline {
    /// Per entry: the local operation number, `| RETURN_FLAG` for a return.
    tag: Vec<u32>,
    /// Per call entry: the entry of its return.
    partner: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
}

impl Timeline {
    /// Builds the list for the operations `part` of `history`; local
    /// operation `j` is `history[part[j]]`.
    ///
    /// # Panics
    ///
    /// If an operation returns before it is called (a bug in whoever built
    /// the history; the parsers never do).
    pub(crate) fn new<I, O>(history: &[Operation<I, O>], part: &[usize]) -> Self {
        let n = part.len();
        assert!(n < RETURN_FLAG as usize / 2, "a part of {n} operations is too large");
        // Sort key: (pending return, time, call 0 / return 1, local op).
        let mut keys: Vec<(bool, u64, bool, u32)> = Vec::with_capacity(2 * n);
        for (j, &i) in part.iter().enumerate() {
            let op = &history[i];
            keys.push((false, op.call, false, j as u32));
            if let Some(ret) = op.ret {
                assert!(
                    ret >= op.call,
                    "operation {i} returns at {ret} before its call at {}; fix the history",
                    op.call
                );
            }
            keys.push((op.ret.is_none(), op.ret.unwrap_or(u64::MAX), true, j as u32));
        }
        keys.sort_unstable();
        let total = 2 * n;
        let mut tag = Vec::with_capacity(total);
        let mut partner = vec![0; total];
        let mut call_entry = vec![0u32; n];
        for (e, &(_, _, is_return, j)) in keys.iter().enumerate() {
            if is_return {
                tag.push(j | RETURN_FLAG);
                partner[call_entry[j as usize] as usize] = e as u32;
            } else {
                tag.push(j);
                call_entry[j as usize] = e as u32;
            }
        }
        let next = (0..=total as u32).map(|e| (e + 1) % (total as u32 + 1)).collect();
        let prev = (0..=total as u32).map(|e| (e + total as u32) % (total as u32 + 1)).collect();
        Timeline { tag, partner, next, prev }
    }

    /// The sentinel's entry number.
    #[inline]
    fn head(&self) -> u32 {
        self.tag.len() as u32
    }

    /// Whether every operation has been lifted.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.first() == self.head()
    }

    /// The earliest entry still in the list.
    #[inline]
    pub(crate) fn first(&self) -> u32 {
        self.next[self.head() as usize]
    }

    /// The entry after `e`.
    #[inline]
    pub(crate) fn next(&self, e: u32) -> u32 {
        self.next[e as usize]
    }

    /// Whether `e` is a call entry (the sentinel is not).
    #[inline]
    pub(crate) fn is_call(&self, e: u32) -> bool {
        self.tag.get(e as usize).is_some_and(|t| t & RETURN_FLAG == 0)
    }

    /// The local operation of entry `e`.
    #[inline]
    pub(crate) fn op(&self, e: u32) -> usize {
        (self.tag[e as usize] & !RETURN_FLAG) as usize
    }

    /// Removes call entry `call` and its return from the list.
    #[inline]
    pub(crate) fn lift(&mut self, call: u32) {
        self.unlink(call);
        self.unlink(self.partner[call as usize]);
    }

    /// Puts back what the matching [`Timeline::lift`] removed; lifts must be
    /// undone in reverse order.
    #[inline]
    pub(crate) fn unlift(&mut self, call: u32) {
        self.relink(self.partner[call as usize]);
        self.relink(call);
    }

    #[inline]
    fn unlink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    #[inline]
    fn relink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        self.prev[n as usize] = e;
    }
}
