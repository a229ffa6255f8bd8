//! The threads of a forward pass: the calling thread plus parked helpers,
//! one team per process.
//!
//! A pass is a few dozen short parallel steps (each linear layer, the
//! attention, each layer norm). On a general pool, every step hands work to
//! the pool and puts the caller to sleep, and idle workers keep yielding the
//! CPU for a while after each pass, competing with the caller's own work
//! (the JVM's, under JNI). Here the caller does a share of every step
//! itself; helpers wait between steps by spinning briefly, and park when
//! the pass ends, so a pass costs one wake-up at most, idle helpers burn
//! nothing, and the caller's thread is never one too many for the cores.
//!
//! The team's size is the process's thread budget (`config.rs`), and no
//! more threads than that compute at once: a pass of n threads (an
//! encoder's own `threads`, default the whole budget) first takes n of the
//! budget's slots, in arrival order, and gives them back when it ends. A
//! pass of one thread runs on its caller alone, beside other such passes
//! (Spark tasks with one CPU each, sharing an executor's cores); passes of
//! several threads share the one set of helpers, so they take turns.
//!
//! A pass for a micro-batch, which many callers wait for, runs on the
//! team's leader thread instead of the caller's (`pass_on_leader`, which
//! says why), with the same helpers.
//!
//! A large batch may run as lanes (`cpu::lanes`): one step of the pass in
//! which each of its threads runs its share of the texts through the whole
//! model alone, with a pass of its own thread (`Pass::alone`).
//!
//! The team starts with the first pass. If a thread cannot be spawned, the
//! threads already started are stopped, the pass fails with the reason and
//! the next pass tries again (nothing is left half-built).
//!
//! `shutdown` stops every thread (the library being unloaded).

use std::cell::{Cell, UnsafeCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use once_cell::sync::OnceCell;

use super::config;

/// How long (in spin-loop hints) a helper waits for the next step of a
/// pass before parking: long enough to cover the gap between two steps (a
/// park and wake-up per step would cost more than the step), short enough
/// that a long serial stretch of a pass burns little. Between passes
/// helpers do not spin at all (`wait_for_step`).
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
    /// Set while a pass of several threads is in progress (`Busy`).
    in_pass: AtomicBool,
    /// Bumped (under `parked`) as each such pass starts, waking parked helpers.
    passes: AtomicU64,
    /// Spin-loop hints a waiting thread spends before parking or yielding
    /// (`SPINS_BEFORE_PARKING`; other values in tests).
    spins: u32,
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
    /// The thread budget's free slots, handed out in arrival order.
    slots: Mutex<Slots>,
    slot_freed: Condvar,
    /// Hands whole passes to the leader thread (`None` once shut down).
    leader: Mutex<Option<mpsc::Sender<Errand>>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

struct Slots {
    free: usize,
    /// The next arrival's ticket, and the ticket whose turn it is.
    next: u64,
    serving: u64,
}

static TEAM: OnceCell<Team> = OnceCell::new();

/// Nanoseconds the team's threads have spent spinning (helpers waiting for
/// a step, a pass's caller waiting for its helpers), since the process
/// started: CPU burnt on waiting, not computing (`bench/rust/idle_cpu.rs`).
static SPUN_NANOS: AtomicU64 = AtomicU64::new(0);

/// CPU time, in seconds, the team's threads have spent spinning so far.
pub(crate) fn spin_seconds() -> f64 {
    SPUN_NANOS.load(Ordering::Relaxed) as f64 * 1e-9
}

fn add_spin(since: Instant) {
    SPUN_NANOS.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
}


/// The process's team, sized by the thread budget; started by the first
/// call. An error if one of its threads could not be spawned (the next
/// call tries again).
pub(crate) fn team() -> std::io::Result<&'static Team> {
    TEAM.get_or_try_init(|| Team::new(config::settings().threads))
}

/// Makes thread spawns of a team started on the calling thread fail, as in
/// a process out of threads: `refused` of them, after letting `allowed`
/// through (tests of that failure).
pub(crate) fn fail_thread_spawns_for_testing(allowed: usize, refused: usize) {
    REFUSED_SPAWNS.with(|r| r.set((allowed, refused)));
}

/// Stops the process's team, if it was started: its helpers and leader
/// exit (once the pass in progress, if any, is over) and are joined. Later
/// passes run on the calling thread alone.
pub(crate) fn shutdown() {
    if let Some(team) = TEAM.get() {
        team.stop();
    }
}

fn spawn(name: String, body: impl FnOnce() + Send + 'static) -> std::io::Result<JoinHandle<()>> {
    let refused = REFUSED_SPAWNS.with(|r| match r.get() {
        (0, 0) => false,
        (0, refuse) => {
            r.set((0, refuse - 1));
            true
        }
        (allow, refuse) => {
            r.set((allow - 1, refuse));
            false
        }
    });
    if refused {
        return Err(std::io::Error::new(std::io::ErrorKind::WouldBlock, "thread spawn refused by the test hook"));
    }
    std::thread::Builder::new().name(name).spawn(body)
}

thread_local! {
    /// Spawns to let through, then spawns to refuse, on this thread
    /// (`fail_thread_spawns_for_testing`).
    static REFUSED_SPAWNS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    /// Set while this thread runs a pass: a pass started inside it runs on
    /// this thread alone, with the slots its outer pass holds.
    static IN_PASS: Cell<bool> = const { Cell::new(false) };
}

/// A pass's slots of the thread budget (and its mark on the thread), given
/// back when dropped.
struct Turn<'t> {
    team: &'t Team,
    slots: usize,
    /// A pass inside a pass: the outer one's Turn clears the mark.
    nested: bool,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if !self.nested {
            IN_PASS.with(|p| p.set(false));
        }
        if self.slots > 0 {
            let mut slots = self.team.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.free += self.slots;
            self.team.slot_freed.notify_all();
        }
    }
}

impl Team {
    /// A team of `threads` threads (the caller's counted): `threads - 1`
    /// helpers plus a leader. Threads already started are stopped again if
    /// a later one cannot be spawned.
    pub(crate) fn new(threads: usize) -> std::io::Result<Self> {
        Self::with_spins(threads, SPINS_BEFORE_PARKING)
    }

    fn with_spins(threads: usize, spins: u32) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            step: UnsafeCell::new(None),
            active: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            in_pass: AtomicBool::new(false),
            passes: AtomicU64::new(0),
            spins,
            parked: Mutex::new(0),
            wake: Condvar::new(),
        });
        let threads = threads.max(1);
        let team = Self {
            shared: Arc::clone(&shared),
            threads,
            pass: Mutex::new(()),
            slots: Mutex::new(Slots { free: threads, next: 0, serving: 0 }),
            slot_freed: Condvar::new(),
            leader: Mutex::new(None),
            handles: Mutex::new(Vec::new()),
        };
        // On an early return, dropping `team` stops and joins what started.
        for index in 1..threads {
            let shared = Arc::clone(&shared);
            let handle = spawn(format!("sbert4j-team-{index}"), move || helper(&shared, index))?;
            team.handles.lock().unwrap_or_else(|p| p.into_inner()).push(handle);
        }
        if threads > 1 {
            let (sender, errands) = mpsc::channel::<Errand>();
            let handle = spawn("sbert4j-team-leader".into(), move || errands.into_iter().for_each(|errand| errand()))?;
            team.handles.lock().unwrap_or_else(|p| p.into_inner()).push(handle);
            *team.leader.lock().unwrap_or_else(|p| p.into_inner()) = Some(sender);
        }
        Ok(team)
    }

    fn pass_threads(&self, wanted: Option<usize>) -> usize {
        if self.shared.stop.load(Ordering::Acquire) {
            return 1;
        }
        wanted.map_or(self.threads, |n| n.clamp(1, self.threads))
    }

    /// Takes `threads` of the budget's slots for the calling thread's pass,
    /// waiting for earlier arrivals and for enough free slots. A pass
    /// inside a pass takes none (it runs on its thread alone).
    fn turn(&self, threads: usize) -> Turn<'_> {
        if IN_PASS.with(|p| p.replace(true)) {
            return Turn { team: self, slots: 0, nested: true };
        }
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = slots.next;
        slots.next += 1;
        while slots.serving != ticket || slots.free < threads {
            slots = self.slot_freed.wait(slots).unwrap_or_else(|p| p.into_inner());
        }
        slots.free -= threads;
        slots.serving += 1;
        self.slot_freed.notify_all();
        Turn { team: self, slots: threads, nested: false }
    }

    /// Runs `pass` on the calling thread: its steps (`Pass::run`) use
    /// `threads` threads (default: all of the team's), the caller's among
    /// them. Waits for that many slots of the budget; a pass of several
    /// threads also waits for the helpers.
    pub fn pass<R>(&self, threads: Option<usize>, pass: impl FnOnce(&Pass) -> R) -> R {
        let threads = if IN_PASS.with(Cell::get) { 1 } else { self.pass_threads(threads) };
        let _turn = self.turn(threads);
        if threads == 1 {
            return pass(&Pass { team: self, threads: 1 });
        }
        let _helpers = self.pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let _busy = Busy::start(&self.shared);
        pass(&Pass { team: self, threads })
    }

    /// Like `pass`, but the pass runs on the team's leader thread while the
    /// calling thread sleeps. Used when other callers are waiting for the
    /// result too (a micro-batch): they and the caller are then many
    /// threads on few cores, and a pass whose threads are all the team's
    /// own keeps going while they are scheduled in and out (with the caller
    /// computing, the pass stalls at every step its caller is preempted in:
    /// 16 callers encode 20% fewer texts a second).
    pub fn pass_on_leader<R: Send>(&self, threads: Option<usize>, pass: impl FnOnce(&Pass) -> R + Send) -> R {
        let threads = self.pass_threads(threads);
        let leader = self.leader.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(leader) = leader.filter(|_| threads > 1 && !IN_PASS.with(Cell::get)) else {
            return self.pass(Some(threads), pass);
        };
        let _turn = self.turn(threads);
        let _helpers = self.pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let done: Arc<(Mutex<Option<std::thread::Result<R>>>, Condvar)> = Arc::new((Mutex::new(None), Condvar::new()));
        let theirs = Arc::clone(&done);
        let errand = move || {
            let busy = Busy::start(&self.shared);
            let result = panic::catch_unwind(AssertUnwindSafe(|| pass(&Pass { team: self, threads })));
            drop(busy);
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

/// Marks a pass of several threads as in progress while it lives: its
/// start wakes parked helpers (so that they are up by its first step), its
/// end lets them park at once instead of spinning (`wait_for_step`).
struct Busy<'a>(&'a Shared);

impl<'a> Busy<'a> {
    fn start(shared: &'a Shared) -> Self {
        shared.in_pass.store(true, Ordering::Relaxed);
        let parked = shared.parked.lock().unwrap_or_else(|p| p.into_inner());
        shared.passes.fetch_add(1, Ordering::Relaxed);
        if *parked > 0 {
            shared.wake.notify_all();
        }
        Self(shared)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.in_pass.store(false, Ordering::Relaxed);
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

    /// A pass of this thread alone, for work that one thread of this pass
    /// does by itself inside one of its steps (a lane, see `cpu::lanes`):
    /// its steps run on the calling thread and touch nothing shared.
    pub fn alone(&self) -> Pass<'_> {
        Pass { team: self.team, threads: 1 }
    }

    /// Splits `0..count` into one contiguous range per thread (at most
    /// `count` threads), calls `f(first, end)` for each range on its own
    /// thread, and returns the results one after another, in range order.
    pub fn concat_ranges<R: Send>(&self, count: usize, f: impl Fn(usize, usize) -> Vec<R> + Sync) -> Vec<R> {
        let threads = self.threads.min(count);
        if threads <= 1 {
            return f(0, count);
        }
        let parts: Vec<Mutex<Vec<R>>> = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
        self.run(&|t| {
            if t < threads {
                let mine = f(t * count / threads, (t + 1) * count / threads);
                *parts[t].lock().unwrap_or_else(|p| p.into_inner()) = mine;
            }
        });
        parts.into_iter().flat_map(|part| part.into_inner().unwrap_or_else(|p| p.into_inner())).collect()
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
                let start = Instant::now();
                while self.0.pending.load(Ordering::Acquire) != 0 {
                    spins = spins.saturating_add(1);
                    if spins < self.0.spins {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
                add_spin(start);
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
/// Spins while a pass is in progress (its next step is microseconds
/// away), for at most `SPINS_BEFORE_PARKING` hints; parks at once when no
/// pass is (a lone caller's next call may be far off: tokenizing, the
/// JVM's own work), and goes back to spinning when a pass starts (lone
/// caller, default model: spinning fell from 7–10% of the process's CPU
/// to 5–8%, `bench/rust/idle_cpu.rs`).
fn wait_for_step(shared: &Shared, seen: u64) -> u64 {
    loop {
        let start = Instant::now();
        for _ in 0..shared.spins {
            let now = shared.generation.load(Ordering::Acquire);
            if now != seen {
                add_spin(start);
                return now;
            }
            if !shared.in_pass.load(Ordering::Relaxed) {
                break;
            }
            std::hint::spin_loop();
        }
        add_spin(start);
        let mut parked = shared.parked.lock().unwrap_or_else(|p| p.into_inner());
        let passes = shared.passes.load(Ordering::Relaxed);
        *parked += 1;
        loop {
            let now = shared.generation.load(Ordering::Acquire);
            if now != seen {
                *parked -= 1;
                return now;
            }
            if shared.passes.load(Ordering::Relaxed) != passes {
                // A pass started: its first step is near.
                *parked -= 1;
                break;
            }
            parked = shared.wake.wait(parked).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_index_runs_once_per_step() {
        let team = Team::new(3).expect("team");
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

    /// Waits (at most 10 s) until `parked` helpers of `team` are parked.
    fn until_parked(team: &Team, parked: usize) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if *team.shared.parked.lock().unwrap() == parked {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        false
    }

    #[test]
    fn helpers_park_when_a_pass_ends_and_wake_when_the_next_one_starts() {
        // Spinning without limit: only the end of the pass can park them.
        let team = Team::with_spins(3, u32::MAX).expect("team");
        let steps = AtomicUsize::new(0);
        team.pass(None, |pass| pass.run(&|_| {
            steps.fetch_add(1, Ordering::Relaxed);
        }));
        assert!(until_parked(&team, 2), "helpers still spinning after the pass");
        team.pass(None, |pass| {
            // Woken by the pass's start, before its first step.
            assert!(until_parked(&team, 0), "helpers still parked in a pass");
            pass.run(&|_| {
                steps.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(steps.load(Ordering::Relaxed), 6);
        assert!(until_parked(&team, 2));
    }

    #[test]
    fn a_panicking_helper_surfaces_in_the_caller_and_the_team_goes_on() {
        let team = Team::new(2).expect("team");
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
        let team = Team::new(2).expect("team");
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

    /// Runs `threads` threads each making `passes` passes of `width`
    /// threads; returns the most pass threads ever busy at once.
    fn most_busy_at_once(team: &Team, callers: usize, passes: usize, width: impl Fn(usize) -> usize + Sync) -> usize {
        let busy = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for caller in 0..callers {
                let (busy, most, width) = (&busy, &most, &width);
                s.spawn(move || {
                    for _ in 0..passes {
                        team.pass(Some(width(caller)), |pass| {
                            let now = busy.fetch_add(pass.threads(), Ordering::SeqCst) + pass.threads();
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            busy.fetch_sub(pass.threads(), Ordering::SeqCst);
                        });
                    }
                });
            }
        });
        most.load(Ordering::SeqCst)
    }

    #[test]
    fn one_thread_passes_run_side_by_side_up_to_the_budget() {
        let team = Team::new(2).expect("team");
        // Six callers of one-thread passes: two at a time, never three.
        assert_eq!(most_busy_at_once(&team, 6, 40, |_| 1), 2);
        let team = Team::new(3).expect("team");
        assert_eq!(most_busy_at_once(&team, 6, 40, |_| 1), 3);
    }

    #[test]
    fn passes_of_mixed_widths_stay_within_the_budget() {
        let team = Team::new(3).expect("team");
        // Callers asking for 1, 2 and 3 threads: never more than 3 busy.
        let most = most_busy_at_once(&team, 6, 30, |caller| 1 + caller % 3);
        assert!(most <= 3, "{most} threads busy with a budget of 3");
    }

    #[test]
    fn a_pass_inside_a_pass_runs_on_its_thread_without_waiting() {
        let team = Team::new(1).expect("team");
        // The outer pass holds the only slot; the inner one must not wait for it.
        let inner = team.pass(None, |_| team.pass(None, |pass| pass.threads()));
        assert_eq!(inner, 1);
        assert_eq!(team.pass(None, |pass| pass.threads()), 1, "the slot came back");
        let team = Team::new(2).expect("team");
        assert_eq!(team.pass(None, |_| team.pass_on_leader(None, |pass| pass.threads())), 1);
        assert_eq!(team.pass(None, |pass| pass.threads()), 2);
    }

    #[test]
    fn a_failed_spawn_stops_what_started_and_a_later_team_starts() {
        // Two helpers start, the third spawn fails (that nothing stays
        // behind is checked in tests/thread_spawn_failure.rs, a process of
        // its own).
        fail_thread_spawns_for_testing(2, 1);
        let error = Team::new(4).err().expect("the spawn was refused");
        assert!(error.to_string().contains("refused"), "{error}");
        let team = Team::new(4).expect("the hook refuses only once");
        let sum = AtomicUsize::new(0);
        team.pass(None, |pass| pass.run(&|t| {
            sum.fetch_add(t + 1, Ordering::Relaxed);
        }));
        assert_eq!(sum.load(Ordering::Relaxed), 1 + 2 + 3 + 4);
    }
}
