//! The threads of a forward pass: the calling thread plus parked helpers,
//! one team per process.
//!
//! A pass is a few dozen short parallel steps (each linear layer, the
//! attention, each layer norm). On a general pool, every step hands work to
//! the pool and puts the caller to sleep, and idle workers keep yielding the
//! CPU for a while after each pass, competing with the caller's own work
//! (the JVM's, under JNI). Here the caller does a share of every step
//! itself; helpers wait between steps by spinning briefly, then park, so a
//! pass costs one wake-up at most and the caller's thread is never one too
//! many for the cores.
//!
//! One pass runs at a time (passes from other threads wait their turn): each
//! pass already uses every thread of the team, and the team is the only set
//! of threads a pass uses. Its size is the process's thread budget
//! (`config.rs`); a pass may use fewer (an encoder's own `threads`).
//!
//! A pass for a micro-batch, which many callers wait for, runs on the
//! team's leader thread instead of the caller's (`pass_on_leader`, which
//! says why), with the same helpers.
//!
//! `shutdown` stops every thread (the library being unloaded).

use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use once_cell::sync::Lazy;

use super::config;

/// How long (in spin-loop hints) a helper waits for the next step before
/// parking: long enough to cover the gap between the steps of a pass and
/// between the passes of a busy caller (a park and wake-up per step would
/// cost more than the step), short enough that an idle process burns no
/// CPU worth measuring (`examples/idle_cpu`).
const SPINS_BEFORE_PARKING: u32 = 1 << 14;

/// A step's work: called once with each thread index `0..threads`.
type Step = dyn Fn(usize) + Sync;

/// A whole pass handed to the leader thread (lifetime erased: the caller
/// waits for its result).
type Errand = Box<dyn FnOnce() + Send>;

struct Shared {
    /// The current step, valid while `pending > 0` (lifetime erased: the
    /// caller waits for every helper before its step goes out of scope).
    step: UnsafeCell<Option<&'static Step>>,
    /// Threads taking part in the current step (helpers with a higher
    /// index skip it).
    active: AtomicUsize,
    /// Bumped once per step, after `step` is written.
    generation: AtomicU64,
    /// Helpers still running the current step.
    pending: AtomicUsize,
    panicked: AtomicBool,
    /// Set by `shutdown`: helpers return instead of waiting.
    stop: AtomicBool,
    parked: Mutex<usize>,
    wake: Condvar,
}

// SAFETY: `step` is written only by the thread holding the team's pass
// lock, while no helper reads it (pending == 0), and read by helpers only
// after they see the new generation (acquire/release on `generation`).
unsafe impl Sync for Shared {}

pub(crate) struct Team {
    shared: Arc<Shared>,
    threads: usize,
    pass: Mutex<()>,
    /// Hands whole passes to the leader thread (`None` once shut down).
    leader: Mutex<Option<mpsc::Sender<Errand>>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

static TEAM: Lazy<Team> = Lazy::new(|| Team::new(config::settings().threads));

/// The process's team, sized by the thread budget.
pub(crate) fn team() -> &'static Team {
    &TEAM
}

/// Stops the process's team, if it was started: its helpers and leader
/// exit (once the pass in progress, if any, is over) and are joined. Later
/// passes run on the calling thread alone.
pub(crate) fn shutdown() {
    if let Some(team) = Lazy::get(&TEAM) {
        team.stop();
    }
}

impl Team {
    pub(crate) fn new(threads: usize) -> Self {
        let shared = Arc::new(Shared {
            step: UnsafeCell::new(None),
            active: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            parked: Mutex::new(0),
            wake: Condvar::new(),
        });
        let threads = threads.max(1);
        let mut handles = Vec::new();
        for index in 1..threads {
            let shared = Arc::clone(&shared);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("sbert4j-team-{index}"))
                    .spawn(move || helper(&shared, index))
                    .expect("spawning a thread of the forward-pass team"),
            );
        }
        let mut leader = None;
        if threads > 1 {
            let (sender, errands) = mpsc::channel::<Errand>();
            handles.push(
                std::thread::Builder::new()
                    .name("sbert4j-team-leader".into())
                    .spawn(move || errands.into_iter().for_each(|errand| errand()))
                    .expect("spawning the forward-pass team's leader"),
            );
            leader = Some(sender);
        }
        Self { shared, threads, pass: Mutex::new(()), leader: Mutex::new(leader), handles: Mutex::new(handles) }
    }

    fn pass_threads(&self, wanted: Option<usize>) -> usize {
        if self.shared.stop.load(Ordering::Acquire) {
            return 1;
        }
        wanted.map_or(self.threads, |n| n.clamp(1, self.threads))
    }

    /// Runs `pass` on the calling thread with this team to itself: its
    /// steps (`Pass::run`) use `threads` threads (default: all of the
    /// team's), the caller's among them. Passes from other threads wait for
    /// this one.
    pub fn pass<R>(&self, threads: Option<usize>, pass: impl FnOnce(&Pass) -> R) -> R {
        let _turn = self.pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pass(&Pass { team: self, threads: self.pass_threads(threads) })
    }

    /// Like `pass`, but the pass runs on the team's leader thread while the
    /// calling thread sleeps. Used when other callers are waiting for the
    /// result too (a micro-batch): they and the caller are then many
    /// threads on few cores, and a pass whose threads are all the team's
    /// own keeps going while they are scheduled in and out (with the caller
    /// computing, the pass stalls at every step its caller is preempted in:
    /// 16 callers encode 20% fewer texts a second).
    pub fn pass_on_leader<R: Send>(&self, threads: Option<usize>, pass: impl FnOnce(&Pass) -> R + Send) -> R {
        let _turn = self.pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let threads = self.pass_threads(threads);
        let leader = self.leader.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(leader) = leader.filter(|_| threads > 1) else {
            return pass(&Pass { team: self, threads });
        };
        let done: Arc<(Mutex<Option<std::thread::Result<R>>>, Condvar)> = Arc::new((Mutex::new(None), Condvar::new()));
        let theirs = Arc::clone(&done);
        let errand = move || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| pass(&Pass { team: self, threads })));
            let (slot, ready) = &*theirs;
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            ready.notify_one();
        };
        let errand: Box<dyn FnOnce() + Send + '_> = Box::new(errand);
        // SAFETY: the lifetime is erased only until the errand has run: this
        // function does not return before the leader has stored its result
        // (the errand's last use of anything borrowed), and an errand the
        // leader never receives comes back to us unrun (`send` fails).
        let errand: Errand = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + '_>, Errand>(errand) };
        if let Err(mpsc::SendError(errand)) = leader.send(errand) {
            errand();
        }
        let (slot, ready) = &*done;
        let mut result = slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(result) = result.take() {
                return result.unwrap_or_else(|payload| panic::resume_unwind(payload));
            }
            result = ready.wait(result).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn stop(&self) {
        // Waits for the pass in progress, if any; later passes see `stop`.
        let _turn = self.pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.shared.stop.store(true, Ordering::Release);
        self.leader.lock().unwrap_or_else(|p| p.into_inner()).take();
        {
            let _parked = self.shared.parked.lock().unwrap_or_else(|p| p.into_inner());
            self.shared.generation.fetch_add(1, Ordering::Release);
            self.shared.wake.notify_all();
        }
        for handle in self.handles.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A pass in progress: the right to run steps on the team.
pub(crate) struct Pass<'t> {
    team: &'t Team,
    threads: usize,
}

impl Pass<'_> {
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Calls `step(t)` for every t in `0..threads()`, in parallel, the
    /// calling thread taking t = 0; returns when all are done. A panic in
    /// any of them is raised here, after every thread has left `step`.
    pub fn run(&self, step: &(dyn Fn(usize) + Sync)) {
        let shared = &*self.team.shared;
        if self.threads == 1 {
            return step(0);
        }
        // SAFETY: the lifetime is erased only for the duration of this
        // call: `Finish` below waits (even while unwinding) until no helper
        // is inside `step` any more.
        let erased: &'static Step = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Step>(step) };
        // SAFETY: we hold the pass lock and pending == 0: no helper reads.
        unsafe { *shared.step.get() = Some(erased) };
        shared.panicked.store(false, Ordering::Relaxed);
        shared.active.store(self.threads, Ordering::Relaxed);
        shared.pending.store(self.team.threads - 1, Ordering::Relaxed);
        shared.generation.fetch_add(1, Ordering::Release);
        if *shared.parked.lock().unwrap_or_else(|p| p.into_inner()) > 0 {
            shared.wake.notify_all();
        }

        struct Finish<'a>(&'a Shared);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                let mut spins = 0u32;
                while self.0.pending.load(Ordering::Acquire) != 0 {
                    spins = spins.saturating_add(1);
                    if spins < SPINS_BEFORE_PARKING {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
                // SAFETY: every helper is done with the step.
                unsafe { *self.0.step.get() = None };
            }
        }
        let finish = Finish(shared);
        step(0);
        drop(finish);
        if shared.panicked.swap(false, Ordering::Relaxed) {
            panic!("a forward-pass helper thread panicked");
        }
    }
}

fn helper(shared: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        seen = wait_for_step(shared, seen);
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        if index < shared.active.load(Ordering::Relaxed) {
            // SAFETY: the new generation was published after `step` was
            // set, and the caller keeps it alive until `pending` reaches 0.
            let step = unsafe { *shared.step.get() };
            if let Some(step) = step {
                if panic::catch_unwind(AssertUnwindSafe(|| step(index))).is_err() {
                    shared.panicked.store(true, Ordering::Relaxed);
                }
            }
        }
        shared.pending.fetch_sub(1, Ordering::Release);
    }
}

/// Waits until the generation moves past `seen`; returns the new one.
fn wait_for_step(shared: &Shared, seen: u64) -> u64 {
    for _ in 0..SPINS_BEFORE_PARKING {
        let now = shared.generation.load(Ordering::Acquire);
        if now != seen {
            return now;
        }
        std::hint::spin_loop();
    }
    let mut parked = shared.parked.lock().unwrap_or_else(|p| p.into_inner());
    *parked += 1;
    loop {
        let now = shared.generation.load(Ordering::Acquire);
        if now != seen {
            *parked -= 1;
            return now;
        }
        parked = shared.wake.wait(parked).unwrap_or_else(|p| p.into_inner());
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_index_runs_once_per_step() {
        let team = Team::new(3);
        let counts: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
        team.pass(None, |pass| {
            for _ in 0..1000 {
                pass.run(&|t| {
                    counts[t].fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        // Helpers parked between passes wake for the next one.
        std::thread::sleep(std::time::Duration::from_millis(20));
        team.pass(None, |pass| pass.run(&|t| {
            counts[t].fetch_add(1, Ordering::Relaxed);
        }));
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1001));
    }

    #[test]
    fn a_panicking_helper_surfaces_in_the_caller_and_the_team_goes_on() {
        let team = Team::new(2);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            team.pass(None, |pass| pass.run(&|t| assert_ne!(t, 1, "helper fails")))
        }));
        assert!(caught.is_err());
        let sum = AtomicUsize::new(0);
        team.pass(None, |pass| pass.run(&|t| {
            sum.fetch_add(t + 1, Ordering::Relaxed);
        }));
        assert_eq!(sum.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn passes_from_many_threads_take_turns() {
        let team = Team::new(2);
        let inside = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        team.pass(None, |pass| {
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two passes at once");
                            pass.run(&|_| std::hint::black_box(()));
                            inside.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                });
            }
        });
    }
}
