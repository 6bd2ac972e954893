//! The tester's word that a run passed, in a form no other process can forge.
//!
//! The grader hands each `labs` run a fresh random secret on a pipe (file
//! descriptor [`protocol::env::PROOF_FD`] names it; the secret itself is never in an
//! environment, a file or an argument). `labs` reads it before it starts any
//! process, so no node inherits the pipe, and when its one test passed it
//! prints [`PROOF_PREFIX`], the milliseconds the test took by its own clock,
//! and HMAC-SHA256(secret, test id, seed, those milliseconds). A node, or
//! anything else that can write into the run's output, has never seen the
//! secret and cannot print the line; the time it carries is the tester's own
//! record, which the grader holds against the run's wall time.

use hmac::{Hmac, Mac};
use protocol::PROOF_PREFIX;
use protocol::env::PROOF_FD;
use sha2::Sha256;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};

/// The longest secret read.
const MAX_SECRET: u64 = 1024;

/// The HMAC of test `id` passing with `seed` in `millis` milliseconds,
/// under `secret`, in hex.
fn mac(secret: &[u8], id: &str, seed: u64, millis: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("raftlab proof v2\0{id}\0{seed}\0{millis}\0passed").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The proof line's text (after [`PROOF_PREFIX`]) for test `id` passing
/// with `seed` in `millis` milliseconds by the tester's clock.
pub fn proof(secret: &[u8], id: &str, seed: u64, millis: u64) -> String {
    format!("{millis} {}", mac(secret, id, seed, millis))
}

/// The tester's own record of how long test `id` took to pass with `seed`,
/// in milliseconds, if `output` holds a valid proof of it.
pub fn verify(output: &str, secret: &[u8], id: &str, seed: u64) -> Option<u64> {
    output.lines().find_map(|l| {
        let (millis, hex) = l.trim_end().strip_prefix(PROOF_PREFIX)?.split_once(' ')?;
        let millis: u64 = millis.parse().ok()?;
        (hex == mac(secret, id, seed, millis)).then_some(millis)
    })
}

/// Reads the secret from the descriptor [`PROOF_FD`] names, and closes
/// it; `None` when the variable is not set (a run outside the grader).
///
/// # Errors
/// If the variable is not a descriptor number or the secret cannot be read.
pub fn take_secret() -> Result<Option<Vec<u8>>, String> {
    let Some(v) = std::env::var_os(PROOF_FD) else { return Ok(None) };
    // SAFETY: safe to call while no other thread changes the environment;
    // labs calls it first thing, on its only thread.
    unsafe { std::env::remove_var(PROOF_FD) };
    let fd: i32 = v
        .to_str()
        .and_then(|s| s.parse().ok())
        .filter(|&fd| fd > 2)
        .ok_or_else(|| format!("{PROOF_FD}={v:?} is not a file descriptor number above 2"))?;
    // Refuse a descriptor that is not open rather than take over another.
    // SAFETY: F_GETFD only reads the descriptor's flags.
    if unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) } < 0 {
        return Err(format!(
            "{PROOF_FD}={fd}: not an open file descriptor ({})",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: the descriptor is open, was handed to this process for this
    // purpose alone, and nothing else in it owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut secret = Vec::new();
    std::fs::File::from(owned)
        .take(MAX_SECRET)
        .read_to_end(&mut secret)
        .map_err(|e| format!("cannot read the secret from descriptor {fd}: {e}"))?;
    if secret.is_empty() {
        return Err(format!("descriptor {fd} held no secret"));
    }
    Ok(Some(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_binds_the_secret_the_test_and_the_seed() {
        let p = proof(b"k", "InitialElection2A", 7, 3140);
        assert_eq!(p.len(), 5 + 64);
        let line = format!("noise\n{PROOF_PREFIX}{p}\n");
        assert_eq!(verify(&line, b"k", "InitialElection2A", 7), Some(3140));
        assert_eq!(verify(&line, b"other", "InitialElection2A", 7), None);
        assert_eq!(verify(&line, b"k", "ReElection2A", 7), None);
        assert_eq!(verify(&line, b"k", "InitialElection2A", 8), None);
        assert_eq!(verify("raftlab-proof: 00", b"k", "InitialElection2A", 7), None);
        // The time is bound too: another number with the same MAC is no proof.
        let forged = line.replace("3140 ", "31400 ");
        assert_eq!(verify(&forged, b"k", "InitialElection2A", 7), None);
    }
}
