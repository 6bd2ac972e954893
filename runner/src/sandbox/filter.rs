//! The system-call filter of every sandboxed process: a classic-BPF program
//! for seccomp, which bubblewrap installs (`--seccomp FD`) just before it
//! runs the sandboxed command, and which everything that command starts
//! inherits.
//!
//! It is a deny list over a default of allow, so that a Rust node (tokio),
//! cargo, rustc, cc and ld work unchanged; [`rules`] lists what is denied
//! and why. Three kinds of call are refused:
//!
//! * channels past the proxy that separate namespaces and uids leave open:
//!   the kernel keyring, locks and change notifications on the files all
//!   sandboxes share read-only (`/usr`, the node binary), futex wake-ups
//!   keyed on such a file, and socket families no network namespace
//!   confines (vsock);
//! * what a sandbox must not reshape: new namespaces, mounts, devices and
//!   FIFOs;
//! * kernel interfaces none of these programs needs, each a large attack
//!   surface: ptrace and cross-process memory access, eBPF, perf events,
//!   userfaultfd, io_uring, module and kexec loading.
//!
//! Every call of another architecture's table (x86's 32-bit `int 0x80`, the
//! x32 ABI) kills the process: its numbers mean other calls. Where there is
//! no table here (neither x86_64 nor aarch64), [`program`] fails, and so
//! does every sandbox: none runs unfiltered.

use nix::libc;

/// Why a call is refused, and with which error.
struct Rule {
    /// The call's name, for the tests' messages.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests only"))]
    call: &'static str,
    /// Its number on this architecture.
    nr: i64,
    /// Which invocations are refused.
    when: When,
    /// The error they fail with.
    errno: i32,
}

/// Which invocations of a call a [`Rule`] refuses. Arguments are compared
/// by their low 32 bits: every argument checked here is an `int` (or, for
/// `clone`, flags the kernel reads from the low 32 bits).
#[derive(Clone, Copy)]
enum When {
    /// Every one.
    Always,
    /// Those whose argument `arg` has any bit of `mask` set.
    AnyBit { arg: u8, mask: u32 },
    /// Those whose argument `arg`, masked with `mask`, is one of `values`.
    OneOf { arg: u8, mask: u32, values: &'static [u32] },
    /// Those whose argument `arg` is none of `values`.
    NoneOf { arg: u8, values: &'static [u32] },
}

/// A rule refusing every invocation of `call` with EPERM.
const fn always(call: &'static str, nr: i64) -> Rule {
    Rule { call, nr, when: When::Always, errno: libc::EPERM }
}

/// Numbers of calls newer than the `libc` crate's tables. From 424 on, every
/// architecture but alpha shares one numbering.
mod newer {
    pub const FUTEX_WAKE: i64 = 454;
    pub const FUTEX_WAIT: i64 = 455;
    pub const FUTEX_REQUEUE: i64 = 456;
    pub const OPEN_TREE_ATTR: i64 = 467;
}

/// The namespace flags of `clone` (`CLONE_NEWTIME` shares its bit with the
/// exit signal there, so it is refused through `unshare` and `clone3` only).
const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;
/// The socket families a sandbox may use: all confined to its own network
/// namespace, as vsock (a host-wide loopback), Bluetooth and the rest are not.
const SOCKET_FAMILIES: [u32; 4] =
    [libc::AF_UNIX as u32, libc::AF_INET as u32, libc::AF_INET6 as u32, libc::AF_NETLINK as u32];
/// `fcntl` commands for record locks: like `flock`, a signal through any file
/// two sandboxes can both open.
const FCNTL_LOCKS: [u32; 6] = [
    libc::F_GETLK as u32,
    libc::F_SETLK as u32,
    libc::F_SETLKW as u32,
    libc::F_OFD_GETLK as u32,
    libc::F_OFD_SETLK as u32,
    libc::F_OFD_SETLKW as u32,
];
/// `fcntl` commands for leases and directory notifications (dnotify): a
/// signal through a shared file or folder, as inotify is.
const FCNTL_WATCHES: [u32; 3] = [libc::F_SETLEASE as u32, libc::F_GETLEASE as u32, libc::F_NOTIFY as u32];
/// The part of a futex operation that names it, and the flag that makes it
/// private to the process.
const FUTEX_OP_MASK: u32 = (libc::FUTEX_PRIVATE_FLAG | 0x7f) as u32;
/// Futex operations that wake waiters, without the private flag: a shared
/// futex is keyed on the file under the address, so one sandbox could wake
/// another that waits on the same offset of a file they both map (the node
/// binary). Every program here uses private futexes; shared waits stay
/// allowed (`pthread_join` waits on a shared futex the kernel wakes).
const SHARED_FUTEX_WAKES: [u32; 5] = [
    libc::FUTEX_WAKE as u32,
    libc::FUTEX_REQUEUE as u32,
    libc::FUTEX_CMP_REQUEUE as u32,
    libc::FUTEX_WAKE_OP as u32,
    libc::FUTEX_WAKE_BITSET as u32,
];

/// What is refused, with the error each refusal returns. The default error
/// is EPERM; a few calls get the error a program already knows how to live
/// with, so that refusing them breaks nothing:
///
/// * `clone3`, `futex_wake`, `futex_wait`, `futex_requeue`: ENOSYS, as from
///   an older kernel (glibc then falls back to `clone`; `clone3`'s flags sit
///   in memory a filter cannot read, so it cannot be allowed in part);
/// * `flock` and `fcntl` locks: EOPNOTSUPP, as on a file system without
///   locks (cargo and rustc then go on unlocked);
/// * `socket` of another family: EAFNOSUPPORT, as for a family the kernel
///   lacks.
///
/// A [`Profile::Build`] keeps its file locks: cargo locks its own folders
/// with them and the SQLite database of its cache tracking needs them (it
/// warns "failed to save last-use data" without), and a build runs alone:
/// its locks end with it, before any node starts.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn rules(profile: Profile) -> Vec<Rule> {
    let locks = [
        Rule { call: "flock", nr: libc::SYS_flock, when: When::Always, errno: libc::EOPNOTSUPP },
        Rule {
            call: "fcntl(lock)",
            nr: libc::SYS_fcntl,
            when: When::OneOf { arg: 1, mask: u32::MAX, values: &FCNTL_LOCKS },
            errno: libc::EOPNOTSUPP,
        },
    ];
    let mut rules = match profile {
        Profile::Node => Vec::from(locks),
        Profile::Build => Vec::new(),
    };
    rules.extend([
        // Channels past the proxy.
        always("add_key", libc::SYS_add_key),
        always("request_key", libc::SYS_request_key),
        always("keyctl", libc::SYS_keyctl),
        Rule {
            call: "fcntl(lease, notify)",
            nr: libc::SYS_fcntl,
            when: When::OneOf { arg: 1, mask: u32::MAX, values: &FCNTL_WATCHES },
            errno: libc::EPERM,
        },
        always("inotify_init1", libc::SYS_inotify_init1),
        always("inotify_add_watch", libc::SYS_inotify_add_watch),
        always("fanotify_init", libc::SYS_fanotify_init),
        always("fanotify_mark", libc::SYS_fanotify_mark),
        Rule {
            call: "futex(shared wake)",
            nr: libc::SYS_futex,
            when: When::OneOf { arg: 1, mask: FUTEX_OP_MASK, values: &SHARED_FUTEX_WAKES },
            errno: libc::EPERM,
        },
        Rule { call: "futex_wake", nr: newer::FUTEX_WAKE, when: When::Always, errno: libc::ENOSYS },
        Rule { call: "futex_wait", nr: newer::FUTEX_WAIT, when: When::Always, errno: libc::ENOSYS },
        Rule { call: "futex_requeue", nr: newer::FUTEX_REQUEUE, when: When::Always, errno: libc::ENOSYS },
        Rule {
            call: "socket(family)",
            nr: libc::SYS_socket,
            when: When::NoneOf { arg: 0, values: &SOCKET_FAMILIES },
            errno: libc::EAFNOSUPPORT,
        },
        // Reshaping the sandbox.
        Rule {
            call: "clone(namespaces)",
            nr: libc::SYS_clone,
            when: When::AnyBit { arg: 0, mask: NAMESPACE_FLAGS },
            errno: libc::EPERM,
        },
        Rule { call: "clone3", nr: libc::SYS_clone3, when: When::Always, errno: libc::ENOSYS },
        always("unshare", libc::SYS_unshare),
        always("setns", libc::SYS_setns),
        always("mount", libc::SYS_mount),
        always("umount2", libc::SYS_umount2),
        always("pivot_root", libc::SYS_pivot_root),
        always("chroot", libc::SYS_chroot),
        always("fsopen", libc::SYS_fsopen),
        always("fsconfig", libc::SYS_fsconfig),
        always("fsmount", libc::SYS_fsmount),
        always("fspick", libc::SYS_fspick),
        always("move_mount", libc::SYS_move_mount),
        always("open_tree", libc::SYS_open_tree),
        always("open_tree_attr", newer::OPEN_TREE_ATTR),
        always("mount_setattr", libc::SYS_mount_setattr),
        always("mknodat", libc::SYS_mknodat),
        // Kernel interfaces no sandboxed program needs.
        always("ptrace", libc::SYS_ptrace),
        always("process_vm_readv", libc::SYS_process_vm_readv),
        always("process_vm_writev", libc::SYS_process_vm_writev),
        always("process_madvise", libc::SYS_process_madvise),
        always("pidfd_getfd", libc::SYS_pidfd_getfd),
        always("kcmp", libc::SYS_kcmp),
        always("bpf", libc::SYS_bpf),
        always("perf_event_open", libc::SYS_perf_event_open),
        always("userfaultfd", libc::SYS_userfaultfd),
        always("io_uring_setup", libc::SYS_io_uring_setup),
        always("io_uring_enter", libc::SYS_io_uring_enter),
        always("io_uring_register", libc::SYS_io_uring_register),
        always("kexec_load", libc::SYS_kexec_load),
        always("kexec_file_load", libc::SYS_kexec_file_load),
        always("init_module", libc::SYS_init_module),
        always("finit_module", libc::SYS_finit_module),
        always("delete_module", libc::SYS_delete_module),
        always("name_to_handle_at", libc::SYS_name_to_handle_at),
        always("open_by_handle_at", libc::SYS_open_by_handle_at),
        always("swapon", libc::SYS_swapon),
        always("swapoff", libc::SYS_swapoff),
        always("reboot", libc::SYS_reboot),
        always("acct", libc::SYS_acct),
        always("syslog", libc::SYS_syslog),
        always("quotactl", libc::SYS_quotactl),
        always("quotactl_fd", libc::SYS_quotactl_fd),
    ]);
    // The x86_64 table keeps older forms of some of these.
    #[cfg(target_arch = "x86_64")]
    rules.extend([
        always("mknod", libc::SYS_mknod),
        always("inotify_init", libc::SYS_inotify_init),
        always("iopl", libc::SYS_iopl),
        always("ioperm", libc::SYS_ioperm),
        always("uselib", libc::SYS_uselib),
    ]);
    rules
}

/// The audit number of this architecture, as seccomp reports a call's
/// (`AUDIT_ARCH_*` of `<linux/audit.h>`), when there is a table for it.
#[cfg(target_arch = "x86_64")]
const ARCH: Option<u32> = Some(0xC000_003E);
#[cfg(target_arch = "aarch64")]
const ARCH: Option<u32> = Some(0xC000_00B7);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ARCH: Option<u32> = None;
/// On x86_64, calls of the x32 ABI carry this bit in their number and the
/// x86_64 audit number: refused whole, since they mean other calls.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The most instructions the kernel takes in one program (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;
/// The largest program, in bytes, that [`program`] returns: one page, which
/// an empty pipe always holds, so that writing it never blocks.
pub(super) const MAX_BYTES: usize = 4096;

/// Seccomp's verdicts (`SECCOMP_RET_*`).
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_ALLOW: u32 = 0x7fff_0000;

/// Offsets in `struct seccomp_data`: the call's number, the architecture,
/// and the low 32 bits of argument `i` at `ARGS + 8 * i`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
#[cfg(target_endian = "little")]
const DATA_ARGS_LOW: u32 = 16;
#[cfg(target_endian = "big")]
const DATA_ARGS_LOW: u32 = 20;

/// Classic-BPF operations (`<linux/bpf_common.h>`), the few used here.
const LD_W_ABS: u16 = 0x20;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JGE_K: u16 = 0x35;
const JMP_JSET_K: u16 = 0x45;
const JMP_JA: u16 = 0x05;
const RET_K: u16 = 0x06;
/// `A &= k`.
const ALU_AND_K: u16 = 0x54;

/// One instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const fn stmt(code: u16, k: u32) -> Insn {
    Insn { code, jt: 0, jf: 0, k }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// Whose filter: the two differ only in file locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A node's (and any other process of a test's): no file locks.
    Node,
    /// A submission's build: cargo, rustc and the linker, which lock their
    /// own files.
    Build,
}

/// The filter of `profile` for this architecture, as the bytes of a
/// `sock_filter` array (what bubblewrap's `--seccomp` reads).
///
/// # Errors
/// On an architecture without a table here: no sandbox runs unfiltered.
pub(super) fn program(profile: Profile) -> Result<Vec<u8>, String> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    if let Some(arch) = ARCH {
        let insns = compile(arch, cfg!(target_arch = "x86_64"), &rules(profile));
        let bytes: Vec<u8> = insns.iter().flat_map(encode).collect();
        assert!(
            insns.len() <= MAX_INSNS && bytes.len() <= MAX_BYTES,
            "the seccomp program has {} instructions, more than fit in one page: shorten rules()",
            insns.len()
        );
        return Ok(bytes);
    }
    Err(format!(
        "no system-call filter for this architecture ({}); the sandbox has one for x86_64 and aarch64 only",
        std::env::consts::ARCH
    ))
}

fn encode(i: &Insn) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0..2].copy_from_slice(&i.code.to_ne_bytes());
    b[2] = i.jt;
    b[3] = i.jf;
    b[4..8].copy_from_slice(&i.k.to_ne_bytes());
    b
}

/// The program: a foreign architecture (and, with `x32`, an x32 call) is
/// killed; then each rule in turn, as a block that returns its error if the
/// call and its arguments match and falls through to the next block if not;
/// then allow. Each block loads the call's number afresh, since a block that
/// reads an argument overwrites it.
fn compile(arch: u32, x32: bool, rules: &[Rule]) -> Vec<Insn> {
    let mut p = vec![stmt(LD_W_ABS, DATA_ARCH), jump(JMP_JEQ_K, arch, 1, 0), stmt(RET_K, RET_KILL_PROCESS)];
    if x32 {
        p.extend([
            stmt(LD_W_ABS, DATA_NR),
            jump(JMP_JGE_K, X32_SYSCALL_BIT, 0, 1),
            stmt(RET_K, RET_KILL_PROCESS),
        ]);
    }
    for rule in rules {
        let nr = u32::try_from(rule.nr).expect("system call numbers are small");
        let deny = stmt(RET_K, RET_ERRNO | (rule.errno as u32 & 0xffff));
        let body: Vec<Insn> = match rule.when {
            When::Always => vec![deny],
            When::AnyBit { arg, mask } => {
                vec![stmt(LD_W_ABS, arg_low(arg)), jump(JMP_JSET_K, mask, 0, 1), deny]
            }
            When::OneOf { arg, mask, values } => {
                let n = values.len();
                let mut b = vec![stmt(LD_W_ABS, arg_low(arg))];
                if mask != u32::MAX {
                    b.push(stmt(ALU_AND_K, mask));
                }
                for (k, v) in values.iter().enumerate() {
                    b.push(jump(JMP_JEQ_K, *v, offset(n - k), 0));
                }
                b.push(stmt(JMP_JA, 1));
                b.push(deny);
                b
            }
            When::NoneOf { arg, values } => {
                let n = values.len();
                let mut b = vec![stmt(LD_W_ABS, arg_low(arg))];
                for (k, v) in values.iter().enumerate() {
                    b.push(jump(JMP_JEQ_K, *v, offset(n - k), 0));
                }
                b.push(deny);
                b
            }
        };
        p.push(stmt(LD_W_ABS, DATA_NR));
        p.push(jump(JMP_JEQ_K, nr, 0, offset(body.len())));
        p.extend(body);
    }
    p.push(stmt(RET_K, RET_ALLOW));
    p
}

fn arg_low(arg: u8) -> u32 {
    assert!(arg < 6, "system calls have six arguments");
    DATA_ARGS_LOW + 8 * u32::from(arg)
}

fn offset(n: usize) -> u8 {
    u8::try_from(n).expect("a rule's block is short: split rules with many values")
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    /// What the kernel sees of one call.
    struct Call {
        arch: u32,
        nr: u32,
        args: [u64; 6],
    }

    fn call(nr: i64, args: &[u64]) -> Call {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        Call { arch: ARCH.unwrap(), nr: nr as u32, args: a }
    }

    /// Runs `p` on `c` as the kernel would, checking every jump lands
    /// inside the program; returns its verdict.
    fn run(p: &[Insn], c: &Call) -> u32 {
        let load = |off: u32| -> u32 {
            match off {
                DATA_NR => c.nr,
                DATA_ARCH => c.arch,
                o if (DATA_ARGS_LOW..DATA_ARGS_LOW + 48).contains(&o)
                    && (o - DATA_ARGS_LOW).is_multiple_of(8) =>
                {
                    c.args[((o - DATA_ARGS_LOW) / 8) as usize] as u32
                }
                o => panic!("load from offset {o}"),
            }
        };
        let (mut pc, mut a) = (0usize, 0u32);
        loop {
            let i = p.get(pc).unwrap_or_else(|| panic!("ran off the end at {pc}"));
            pc += 1;
            let skip = |cond: bool| usize::from(if cond { i.jt } else { i.jf });
            match i.code {
                LD_W_ABS => a = load(i.k),
                ALU_AND_K => a &= i.k,
                JMP_JEQ_K => pc += skip(a == i.k),
                JMP_JGE_K => pc += skip(a >= i.k),
                JMP_JSET_K => pc += skip(a & i.k != 0),
                JMP_JA => pc += i.k as usize,
                RET_K => return i.k,
                code => panic!("unexpected instruction {code:#x}"),
            }
        }
    }

    fn filter() -> Vec<Insn> {
        compile(ARCH.unwrap(), cfg!(target_arch = "x86_64"), &rules(Profile::Node))
    }

    fn verdict(nr: i64, args: &[u64]) -> u32 {
        run(&filter(), &call(nr, args))
    }

    fn denied(errno: i32) -> u32 {
        RET_ERRNO | errno as u32
    }

    #[test]
    fn the_keyring_mknod_and_flock_are_refused() {
        assert_eq!(verdict(libc::SYS_keyctl, &[0]), denied(libc::EPERM));
        assert_eq!(verdict(libc::SYS_add_key, &[]), denied(libc::EPERM));
        assert_eq!(verdict(libc::SYS_request_key, &[]), denied(libc::EPERM));
        assert_eq!(verdict(libc::SYS_mknodat, &[0, 0, libc::S_IFIFO as u64 | 0o600]), denied(libc::EPERM));
        assert_eq!(verdict(libc::SYS_flock, &[3, libc::LOCK_EX as u64]), denied(libc::EOPNOTSUPP));
        assert_eq!(verdict(libc::SYS_ptrace, &[]), denied(libc::EPERM));
        assert_eq!(verdict(libc::SYS_io_uring_setup, &[]), denied(libc::EPERM));
        assert_eq!(verdict(libc::SYS_unshare, &[libc::CLONE_NEWUSER as u64]), denied(libc::EPERM));
    }

    #[test]
    fn ordinary_calls_pass() {
        for nr in [libc::SYS_read, libc::SYS_write, libc::SYS_openat, libc::SYS_mmap, libc::SYS_execve] {
            assert_eq!(verdict(nr, &[1, 2, 3]), RET_ALLOW, "call {nr}");
        }
        assert_eq!(verdict(libc::SYS_fcntl, &[3, libc::F_SETFD as u64, 1]), RET_ALLOW);
        assert_eq!(verdict(libc::SYS_fcntl, &[3, libc::F_GETFL as u64]), RET_ALLOW);
    }

    #[test]
    fn arguments_decide_for_clone_socket_fcntl_and_futex() {
        // A thread, a fork: allowed; a new namespace: refused; clone3 falls back.
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD | libc::CLONE_SIGHAND | libc::CLONE_FS) as u64;
        assert_eq!(verdict(libc::SYS_clone, &[thread]), RET_ALLOW);
        assert_eq!(verdict(libc::SYS_clone, &[libc::SIGCHLD as u64]), RET_ALLOW);
        assert_eq!(
            verdict(libc::SYS_clone, &[libc::SIGCHLD as u64 | libc::CLONE_NEWNET as u64]),
            denied(libc::EPERM)
        );
        assert_eq!(verdict(libc::SYS_clone3, &[]), denied(libc::ENOSYS));
        // Only the low 32 bits count, as for the kernel.
        assert_eq!(verdict(libc::SYS_clone, &[1 << 40]), RET_ALLOW);
        for family in SOCKET_FAMILIES {
            assert_eq!(verdict(libc::SYS_socket, &[family as u64, 1, 0]), RET_ALLOW, "family {family}");
        }
        assert_eq!(verdict(libc::SYS_socket, &[libc::AF_VSOCK as u64, 1, 0]), denied(libc::EAFNOSUPPORT));
        assert_eq!(verdict(libc::SYS_fcntl, &[3, libc::F_OFD_SETLK as u64]), denied(libc::EOPNOTSUPP));
        assert_eq!(verdict(libc::SYS_fcntl, &[3, libc::F_NOTIFY as u64]), denied(libc::EPERM));
        // Private futexes (all of std's) pass; a shared wait passes; a shared wake does not.
        let private = libc::FUTEX_PRIVATE_FLAG as u64;
        for op in [libc::FUTEX_WAKE, libc::FUTEX_WAIT, libc::FUTEX_WAIT_BITSET, libc::FUTEX_WAKE_OP] {
            assert_eq!(verdict(libc::SYS_futex, &[0, op as u64 | private, 1]), RET_ALLOW, "op {op}");
        }
        assert_eq!(verdict(libc::SYS_futex, &[0, libc::FUTEX_WAIT as u64, 1]), RET_ALLOW);
        let realtime = libc::FUTEX_CLOCK_REALTIME as u64;
        assert_eq!(verdict(libc::SYS_futex, &[0, libc::FUTEX_WAIT_BITSET as u64 | realtime]), RET_ALLOW);
        for op in SHARED_FUTEX_WAKES {
            assert_eq!(verdict(libc::SYS_futex, &[0, u64::from(op), 1]), denied(libc::EPERM), "op {op}");
        }
    }

    #[test]
    fn other_architectures_are_killed() {
        let i386 = 0x4000_0003;
        assert_eq!(run(&filter(), &Call { arch: i386, nr: 0, args: [0; 6] }), RET_KILL_PROCESS);
        if cfg!(target_arch = "x86_64") {
            let x32_keyctl = X32_SYSCALL_BIT | libc::SYS_keyctl as u32;
            assert_eq!(run(&filter(), &call(x32_keyctl.into(), &[])), RET_KILL_PROCESS);
            assert_eq!(run(&filter(), &call(X32_SYSCALL_BIT.into(), &[])), RET_KILL_PROCESS);
        }
    }

    #[test]
    fn every_rule_is_reached_and_the_program_fits_a_page() {
        let p = filter();
        for r in rules(Profile::Node) {
            let args = match r.when {
                When::Always => [0; 6],
                When::AnyBit { arg, mask } => {
                    let mut a = [0; 6];
                    a[arg as usize] = u64::from(mask);
                    a
                }
                When::OneOf { arg, values, .. } => {
                    let mut a = [0; 6];
                    a[arg as usize] = u64::from(values[0]);
                    a
                }
                When::NoneOf { .. } => [u64::from(u32::MAX); 6],
            };
            let c = Call { arch: ARCH.unwrap(), nr: r.nr as u32, args };
            assert_eq!(run(&p, &c), denied(r.errno), "{} is not refused", r.call);
        }
        let bytes = program(Profile::Node).unwrap();
        assert_eq!(bytes.len(), 8 * p.len());
        assert!(bytes.len() <= MAX_BYTES);
    }

    #[test]
    fn a_build_keeps_its_file_locks_and_nothing_else() {
        let build = compile(ARCH.unwrap(), cfg!(target_arch = "x86_64"), &rules(Profile::Build));
        assert_eq!(run(&build, &call(libc::SYS_flock, &[3, libc::LOCK_EX as u64])), RET_ALLOW);
        assert_eq!(run(&build, &call(libc::SYS_fcntl, &[3, libc::F_SETLK as u64])), RET_ALLOW);
        assert_eq!(run(&build, &call(libc::SYS_fcntl, &[3, libc::F_NOTIFY as u64])), denied(libc::EPERM));
        assert_eq!(run(&build, &call(libc::SYS_keyctl, &[])), denied(libc::EPERM));
        let node: Vec<&str> = rules(Profile::Node).iter().map(|r| r.call).collect();
        let build: Vec<&str> = rules(Profile::Build).iter().map(|r| r.call).collect();
        let only_node: Vec<&&str> = node.iter().filter(|c| !build.contains(c)).collect();
        assert_eq!(only_node, [&"flock", &"fcntl(lock)"]);
    }

    /// The program as the kernel runs it: installed in a forked child, which
    /// reports what each call returned.
    #[test]
    fn the_kernel_enforces_it() {
        let insns = filter();
        let prog: Vec<libc::sock_filter> =
            insns.iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect();
        let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_ptr() as *mut _ };
        let dir = tempfile::tempdir().unwrap();
        let fifo = std::ffi::CString::new(dir.path().join("f").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: the child makes only raw system calls and exits with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: raw system calls on memory prepared before the fork.
            unsafe {
                let errno = || *libc::__errno_location();
                let fails_with = |r: libc::c_long, e: i32| r == -1 && errno() == e;
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &fprog) != 0
                {
                    libc::_exit(10);
                }
                let mut failed = 0;
                if !fails_with(libc::syscall(libc::SYS_keyctl, 0, -3, 0), libc::EPERM) {
                    failed |= 1;
                }
                let mknod =
                    libc::syscall(libc::SYS_mknodat, libc::AT_FDCWD, fifo.as_ptr(), libc::S_IFIFO | 0o600, 0);
                if !fails_with(mknod, libc::EPERM) {
                    failed |= 2;
                }
                if !fails_with(libc::syscall(libc::SYS_flock, 0, libc::LOCK_SH), libc::EOPNOTSUPP) {
                    failed |= 4;
                }
                if libc::syscall(libc::SYS_getpid) <= 0 {
                    failed |= 8;
                }
                libc::_exit(failed);
            }
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "the filtered child was killed: status {status:#x}");
        let code = libc::WEXITSTATUS(status);
        assert_eq!(code, 0, "bit 1: keyctl, 2: mknodat, 4: flock, 8: getpid, 10: install; got {code}");
        assert!(!dir.path().join("f").exists());
    }
}
