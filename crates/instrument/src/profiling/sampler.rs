//! The sampler: `setitimer(ITIMER_PROF)` plus a `SIGPROF` handler that writes stacks into the
//! [`SampleRing`].
//!
//! `ITIMER_PROF` counts the CPU time of the whole process (user and system) and raises
//! `SIGPROF` every `1/hz` seconds of it; the kernel delivers the signal to a thread that is
//! running, so busy threads are sampled in proportion to the CPU they use and idle ones not at
//! all.
//!
//! The handler reaches the ring through a global pointer. To free the ring safely the handler
//! counts itself in `IN_FLIGHT` before loading the pointer; [`Sampler::stop`] disarms the timer,
//! clears the pointer and waits for `IN_FLIGHT` to reach zero before giving up its reference.
//! The handler stays installed after a stop and does nothing: a `SIGPROF` still pending when
//! the timer is disarmed would otherwise meet the default action, which terminates the process.

use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

use super::ProfilingError;
use super::ring::SampleRing;
use super::span::current_span;

/// The ring the handler writes to; null while no profiler runs.
static ACTIVE: AtomicPtr<SampleRing> = AtomicPtr::new(ptr::null_mut());
/// Handlers currently between loading `ACTIVE` and finishing with it.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// One profiler per process: `SIGPROF` and `ITIMER_PROF` are process-wide.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Whether a sampler runs in this process now (the span hook skips its work otherwise).
pub(crate) fn is_running() -> bool {
    RUNNING.load(Ordering::Relaxed)
}

/// A running sampler. Dropping it stops it.
pub(crate) struct Sampler {
    ring: Option<Arc<SampleRing>>,
}

impl Sampler {
    /// Installs the handler, publishes `ring` and arms the timer at `hz`. Fails when another
    /// sampler runs, when another `SIGPROF` handler or an armed `ITIMER_PROF` belongs to
    /// someone else, or when a system call fails.
    pub(crate) fn start(ring: Arc<SampleRing>, hz: u32) -> Result<Self, ProfilingError> {
        if RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(ProfilingError::AlreadyRunning);
        }
        match arm(ring.clone(), hz) {
            Ok(()) => Ok(Self { ring: Some(ring) }),
            Err(e) => {
                RUNNING.store(false, Ordering::Release);
                Err(e)
            }
        }
    }

    /// Disarms the timer and waits until no handler uses the ring. Idempotent.
    pub(crate) fn stop(&mut self) {
        let Some(_ring) = self.ring.take() else {
            return;
        };
        // Errors are impossible with these arguments; a failure would leave the timer running
        // into a no-op handler, which is harmless.
        let _ = set_timer(0);
        let published = ACTIVE.swap(ptr::null_mut(), Ordering::SeqCst);
        while IN_FLIGHT.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        if !published.is_null() {
            // SAFETY: `arm` published this pointer with `Arc::into_raw`; it is no longer
            // reachable from the handler (swapped out, no handler in flight).
            drop(unsafe { Arc::from_raw(published) });
        }
        RUNNING.store(false, Ordering::Release);
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
    }
}

fn arm(ring: Arc<SampleRing>, hz: u32) -> Result<(), ProfilingError> {
    install_handler()?;
    // The unwinder initialises itself (a `pthread_once`) on first use; doing that here, outside
    // the handler, means the handler never waits on it.
    warm_up_unwinder();
    let raw = Arc::into_raw(ring).cast_mut();
    ACTIVE.store(raw, Ordering::SeqCst);
    let interval_us = (1_000_000 / u64::from(hz.max(1))).max(1);
    if let Err(e) = set_timer(interval_us) {
        let published = ACTIVE.swap(ptr::null_mut(), Ordering::SeqCst);
        while IN_FLIGHT.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        if !published.is_null() {
            // SAFETY: published just above with `Arc::into_raw` and now unreachable.
            drop(unsafe { Arc::from_raw(published) });
        }
        return Err(e);
    }
    Ok(())
}

fn warm_up_unwinder() {
    let mut frames = 0usize;
    backtrace::trace(|_| {
        frames += 1;
        frames < 2
    });
}

/// Installs `on_sigprof` unless another handler owns `SIGPROF`.
fn install_handler() -> Result<(), ProfilingError> {
    // SAFETY: plain libc calls on zero-initialised `sigaction` structs.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPROF, ptr::null(), &mut old) != 0 {
            return Err(ProfilingError::System {
                call: "sigaction(SIGPROF)",
                source: std::io::Error::last_os_error(),
            });
        }
        let ours = on_sigprof as *const () as libc::sighandler_t;
        if old.sa_sigaction != libc::SIG_DFL
            && old.sa_sigaction != libc::SIG_IGN
            && old.sa_sigaction != ours
        {
            return Err(ProfilingError::SigprofInUse);
        }
        let mut timer: libc::itimerval = std::mem::zeroed();
        if libc::getitimer(libc::ITIMER_PROF, &mut timer) == 0
            && (timer.it_interval.tv_sec != 0 || timer.it_interval.tv_usec != 0)
            && old.sa_sigaction != ours
        {
            return Err(ProfilingError::SigprofInUse);
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ours;
        // SA_RESTART: system calls the signal interrupts resume instead of failing with EINTR.
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGPROF, &action, ptr::null_mut()) != 0 {
            return Err(ProfilingError::System {
                call: "sigaction(SIGPROF)",
                source: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}

/// Arms `ITIMER_PROF` every `interval_us` microseconds of process CPU time; 0 disarms it.
fn set_timer(interval_us: u64) -> Result<(), ProfilingError> {
    let tv = libc::timeval {
        tv_sec: (interval_us / 1_000_000) as libc::time_t,
        tv_usec: (interval_us % 1_000_000) as libc::suseconds_t,
    };
    let timer = libc::itimerval {
        it_interval: tv,
        it_value: tv,
    };
    // SAFETY: `timer` is a valid itimerval; the old value is not requested.
    if unsafe { libc::setitimer(libc::ITIMER_PROF, &timer, ptr::null_mut()) } != 0 {
        return Err(ProfilingError::System {
            call: "setitimer(ITIMER_PROF)",
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// The `SIGPROF` handler. Only async-signal-safe work: atomics, a thread-local read, the
/// unwinder (see the module docs of `profiling` for why it qualifies here) and writes into a
/// preallocated slot. `errno` is saved and restored because the interrupted code may be about
/// to read it.
extern "C" fn on_sigprof(
    _signal: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: `__errno_location` returns the calling thread's errno slot.
    let errno = unsafe { *libc::__errno_location() };
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let ring = ACTIVE.load(Ordering::SeqCst);
    if !ring.is_null() {
        // SAFETY: a non-null `ACTIVE` is a live `Arc<SampleRing>` that `Sampler::stop` frees
        // only after seeing `IN_FLIGHT == 0`, and this handler is counted in it.
        record(unsafe { &*ring }, interrupted_pc(context));
    }
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Unwinds the interrupted thread into a claimed slot, leaf first. The walk starts inside this
/// handler; the frames up to the signal trampoline are the profiler's own and are skipped by
/// waiting for the interrupted instruction's address. If the unwinder never reaches it, the sample keeps just
/// that address, so the leaf function is still counted.
fn record(ring: &SampleRing, pc: Option<usize>) {
    let span = current_span();
    let Some(mut slot) = ring.claim() else {
        return;
    };
    let frames = slot.frames();
    let mut len = 0;
    let mut reached = pc.is_none();
    // SAFETY: `trace_unsynchronized` only requires that no other thread unwinds through the
    // `backtrace` crate's global state at once; its libgcc backend keeps no such state (and the
    // FDE lookup through `_dl_find_object` is async-signal-safe on glibc >= 2.35).
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            let ip = frame.ip() as usize;
            if !reached {
                reached = Some(ip) == pc;
                if !reached {
                    return true;
                }
            }
            if ip == 0 || len >= frames.len() {
                return false;
            }
            frames[len] = ip;
            len += 1;
            true
        });
    }
    if len == 0
        && let Some(pc) = pc
    {
        frames[0] = pc;
        len = 1;
    }
    if len > 0 {
        if pc.is_some() {
            // Every frame above the leaf is a return address, which symbolizers look up one
            // byte back (inside the call). Storing the interrupted instruction plus one makes
            // the leaf follow the same rule, as Go's profiler does, so a leaf at the first byte
            // of a function is not attributed to the padding before it.
            frames[0] = frames[0].wrapping_add(1);
        }
        slot.commit(len, span);
    }
}

/// The address of the instruction the signal interrupted, read from the saved machine context.
fn interrupted_pc(context: *mut libc::c_void) -> Option<usize> {
    if context.is_null() {
        return None;
    }
    let uc = context.cast::<libc::ucontext_t>();
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        // SAFETY: with SA_SIGINFO the third handler argument is the thread's `ucontext_t`.
        let pc = unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] };
        Some(pc as usize)
    }
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    {
        // SAFETY: as above.
        let pc = unsafe { (*uc).uc_mcontext.pc };
        Some(pc as usize)
    }
    #[cfg(not(any(
        all(target_os = "linux", target_arch = "x86_64"),
        all(target_os = "linux", target_arch = "aarch64")
    )))]
    {
        let _ = uc;
        None
    }
}
