//! The threads of a forward pass: the calling thread plus a crew of the
//! team's workers, one team per process.
//!
//! A pass is a few dozen short parallel steps (each linear layer, the
//! attention, each layer norm). On a general pool, every step hands work to
//! the pool and puts the caller to sleep, and idle workers keep yielding the
//! CPU for a while after each pass, competing with the caller's own work
//! (the JVM's, under JNI). Here the caller does a share of every step
//! itself; its crew waits between steps by spinning briefly, and goes back
//! to the team, parked, when the pass ends, so a pass costs one wake-up at
//! most, idle workers burn nothing, and the caller's thread is never one
//! too many for the cores.
//!
//! The team's size is the process's thread budget (`config.rs`), and no
//! more threads than that compute at once: a pass of n threads (an
//! encoder's own `threads`, default the whole budget) first takes n of the
//! budget's slots, in arrival order, and gives them back when it ends.
//! With its slots it takes a crew of n − 1 parked workers (there are
//! always enough: every pass holds one slot more than it has workers), so
//! passes run side by side as long as the budget has room: K passes of
//! width w keep about K × w threads busy, and only their own crews wake
//! and spin; the workers in no pass stay parked. A pass of one thread runs
//! on its caller alone (Spark tasks with one CPU each, sharing an
//! executor's cores).
//!
//! A pass for a micro-batch, which many callers wait for, runs on one of
//! the team's workers instead of the caller's thread (`pass_on_leader`,
//! which says why): its crew is n workers, the first of them leading.
//!
//! A large batch may run as lanes (`cpu::lanes`): one step of the pass in
//! which each of its threads runs its share of the texts through the whole
//! model alone, with a pass of its own thread (`Pass::alone`).
//!
//! The team starts with the first pass. If a thread cannot be spawned, the
//! threads already started are stopped, the pass fails with the reason and
//! the next pass tries again (nothing is left half-built).
//!
//! `shutdown` stops every thread (the library being unloaded): passes
//! under way finish with their crews, passes that had not taken their
//! crew yet run on their caller alone, and so does every later one.

use std::cell::{Cell, UnsafeCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use once_cell::sync::OnceCell;

use super::config;

/// How long (in spin-loop hints) a crew's worker waits for the next step
/// of its pass before parking: long enough to cover the gap between two
/// steps (a park and wake-up per step would cost more than the step),
/// short enough that a long serial stretch of a pass burns little. Outside
/// a pass workers do not spin at all.
const SPINS_BEFORE_PARKING: u32 = 1 << 14;

/// A step's work: called once with each thread index `0..threads`.
type Step = dyn Fn(usize) + Sync;

/// A whole pass handed to a worker (lifetime erased: the caller waits for
/// its result).
type Errand = Box<dyn FnOnce() + Send>;

/// Locks `m`, whether or not a panicking thread poisoned it (nothing the
/// team guards is left half-updated by a panic).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The workers of one pass, and the step they run now.
struct Crew {
    /// The current step, valid while `pending > 0` (lifetime erased: the
    /// pass's thread waits for every worker before its step goes out of
    /// scope).
    step: UnsafeCell<Option<&'static Step>>,
    /// Bumped once per step, after `step` is written.
    generation: AtomicU64,
    /// Workers still running the current step.
    pending: AtomicUsize,
    panicked: AtomicBool,
    /// Set (under `parked`) when the pass ends: its workers go back to
    /// their mailboxes.
    done: AtomicBool,
    /// Workers of the crew (1..=members; 0 is the pass's own thread).
    members: usize,
    spins: u32,
    parked: Mutex<usize>,
    wake: Condvar,
}

// SAFETY: `step` is written only by the pass's own thread, while no worker
// reads it (pending == 0), and read by workers only after they see the new
// generation (acquire/release on `generation`).
unsafe impl Sync for Crew {}

/// What a worker is handed.
enum Mail {
    /// Serve `Crew` as its member with this thread index, until its pass ends.
    Crew(Arc<Crew>, usize),
    /// Run a whole pass (its crew was handed out with it).
    Errand(Errand),
}

struct Worker {
    mailbox: Mutex<Mailbox>,
    delivered: Condvar,
}

#[derive(Default)]
struct Mailbox {
    mail: Option<Mail>,
    /// Taken by a pass (under the team's `state` lock), its mail not yet
    /// delivered: the worker must not return, even once the team stops.
    reserved: bool,
}

/// What the workers share with the team.
struct Shared {
    workers: Vec<Worker>,
    /// Set by `shutdown` (under the team's `state` lock): workers return
    /// once their mailbox is empty.
    stop: AtomicBool,
    /// Workers parked now (in their mailbox, or in a crew between steps).
    parked: AtomicUsize,
    /// Spin-loop hints a waiting thread spends before parking or yielding
    /// (`SPINS_BEFORE_PARKING`; other values in tests).
    spins: u32,
}

pub(crate) struct Team {
    shared: Arc<Shared>,
    threads: usize,
    /// The thread budget's free slots, handed out in arrival order, and
    /// the workers in no pass.
    state: Mutex<State>,
    slot_freed: Condvar,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

struct State {
    free: usize,
    /// The next arrival's ticket, and the ticket whose turn it is.
    next: u64,
    serving: u64,
    /// Workers in no pass (indices into `Shared::workers`).
    idle: Vec<usize>,
    stopped: bool,
    /// Threads of the passes under way (callers and crews), and the most
    /// there ever were at once (`Counters`).
    running: usize,
    most_running: usize,
}

/// What the team's counters say (tests, `bench/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Threads of the passes under way now (callers and crews).
    pub running: usize,
    /// The most such threads there ever were at once.
    pub most_running: usize,
    /// Workers parked now.
    pub parked: usize,
    /// Workers in all.
    pub workers: usize,
}

static TEAM: OnceCell<Team> = OnceCell::new();

/// Nanoseconds the team's threads have spent spinning (workers waiting for
/// a step, a pass's thread waiting for its crew), since the process
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

/// The process's team's counters (all zero before it started).
pub(crate) fn counters() -> Counters {
    TEAM.get().map_or(Counters { running: 0, most_running: 0, parked: 0, workers: 0 }, Team::counters)
}

/// Makes thread spawns of a team started on the calling thread fail, as in
/// a process out of threads: `refused` of them, after letting `allowed`
/// through (tests of that failure).
pub(crate) fn fail_thread_spawns_for_testing(allowed: usize, refused: usize) {
    REFUSED_SPAWNS.with(|r| r.set((allowed, refused)));
}

/// Stops the process's team, if it was started: its workers exit (each
/// once the pass it serves, if any, is over) and are joined. Later passes
/// run on the calling thread alone.
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
    /// Set while this thread runs a pass (and always on the team's
    /// workers): a pass started inside it runs on this thread alone, with
    /// the slots its outer pass holds.
    static IN_PASS: Cell<bool> = const { Cell::new(false) };
}

/// A pass's slots of the thread budget and its workers (and its mark on
/// the thread), given back when dropped.
struct Turn<'t> {
    team: &'t Team,
    slots: usize,
    workers: Vec<usize>,
    /// Threads it counts as running (`State::running`).
    running: usize,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        IN_PASS.with(|p| p.set(false));
        let mut state = lock(&self.team.state);
        state.free += self.slots;
        state.running -= self.running;
        state.idle.append(&mut self.workers);
        self.team.slot_freed.notify_all();
    }
}

/// A crew at work; ends it (its workers go back to their mailboxes) when
/// dropped, after the pass's last step.
struct CrewAtWork(Option<Arc<Crew>>);

impl Drop for CrewAtWork {
    fn drop(&mut self) {
        if let Some(crew) = &self.0 {
            let _parked = lock(&crew.parked);
            crew.done.store(true, Ordering::Release);
            crew.wake.notify_all();
        }
    }
}

impl Team {
    /// A team of `threads` threads: as many workers, parked until a pass
    /// takes them. Threads already started are stopped again if a later
    /// one cannot be spawned.
    pub(crate) fn new(threads: usize) -> std::io::Result<Self> {
        Self::with_spins(threads, SPINS_BEFORE_PARKING)
    }

    fn with_spins(threads: usize, spins: u32) -> std::io::Result<Self> {
        let threads = threads.max(1);
        // A budget of one thread: every pass runs on its caller alone.
        let workers = if threads > 1 { threads } else { 0 };
        let shared = Arc::new(Shared {
            workers: (0..workers).map(|_| Worker { mailbox: Mutex::default(), delivered: Condvar::new() }).collect(),
            stop: AtomicBool::new(false),
            parked: AtomicUsize::new(0),
            spins,
        });
        let team = Self {
            shared: Arc::clone(&shared),
            threads,
            state: Mutex::new(State {
                free: threads,
                next: 0,
                serving: 0,
                idle: Vec::new(),
                stopped: false,
                running: 0,
                most_running: 0,
            }),
            slot_freed: Condvar::new(),
            handles: Mutex::new(Vec::new()),
        };
        // On an early return, dropping `team` stops and joins what started.
        for index in 0..workers {
            let shared = Arc::clone(&shared);
            let handle = spawn(format!("sbert4j-team-{index}"), move || work(&shared, index))?;
            lock(&team.handles).push(handle);
            lock(&team.state).idle.push(index);
        }
        Ok(team)
    }

    pub(crate) fn counters(&self) -> Counters {
        let state = lock(&self.state);
        Counters {
            running: state.running,
            most_running: state.most_running,
            parked: self.shared.parked.load(Ordering::SeqCst),
            workers: self.shared.workers.len(),
        }
    }

    fn pass_threads(&self, wanted: Option<usize>) -> usize {
        wanted.map_or(self.threads, |n| n.clamp(1, self.threads))
    }

    /// Takes `threads` of the budget's slots for the calling thread's pass,
    /// waiting for earlier arrivals and for enough free slots, and the
    /// workers of its crew: `threads - 1`, or `threads` with `on_worker`
    /// (the pass itself runs on the first). None once the team is stopped:
    /// the pass then runs on its caller alone.
    fn turn(&self, threads: usize, on_worker: bool) -> Turn<'_> {
        IN_PASS.with(|p| p.set(true));
        let mut state = lock(&self.state);
        let ticket = state.next;
        state.next += 1;
        while state.serving != ticket || state.free < threads {
            state = self.slot_freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.free -= threads;
        state.serving += 1;
        self.slot_freed.notify_all();
        let wanted = if threads < 2 || state.stopped { 0 } else { threads - 1 + usize::from(on_worker) };
        // Every pass holds a slot more than it has workers (or, on a
        // worker, as many), so the idle ones suffice; `min` only guards.
        let at = state.idle.len() - wanted.min(state.idle.len());
        let workers = state.idle.split_off(at);
        for &w in &workers {
            lock(&self.shared.workers[w].mailbox).reserved = true;
        }
        // A pass on a worker: its caller only waits.
        let running = if on_worker && !workers.is_empty() { workers.len() } else { 1 + workers.len() };
        state.running += running;
        state.most_running = state.most_running.max(state.running);
        Turn { team: self, slots: threads, workers, running }
    }

    /// Hands `members` their crew, waking them (so that they are up by its
    /// first step). The workers are this pass's alone until its `Turn`
    /// gives them back, and a worker taken by a pass (`reserved`) serves
    /// its mail before it looks at `stop`: a `shutdown` meanwhile waits for
    /// this pass to end.
    fn start_crew(&self, members: &[usize]) -> CrewAtWork {
        if members.is_empty() {
            return CrewAtWork(None);
        }
        let crew = Arc::new(Crew {
            step: UnsafeCell::new(None),
            generation: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            done: AtomicBool::new(false),
            members: members.len(),
            spins: self.shared.spins,
            parked: Mutex::new(0),
            wake: Condvar::new(),
        });
        for (i, &w) in members.iter().enumerate() {
            self.deliver(w, Mail::Crew(Arc::clone(&crew), i + 1));
        }
        CrewAtWork(Some(crew))
    }

    /// Puts `mail` in an idle worker's mailbox. Mail still there is a crew
    /// whose pass ended before the worker took it (a pass that ran no
    /// step): nothing waits for it, and it is replaced.
    fn deliver(&self, worker: usize, mail: Mail) {
        let worker = &self.shared.workers[worker];
        let mut mailbox = lock(&worker.mailbox);
        (mailbox.mail, mailbox.reserved) = (Some(mail), false);
        worker.delivered.notify_one();
    }

    /// Runs `pass` on the calling thread: its steps (`Pass::run`) use
    /// `threads` threads (default: all of the team's), the caller's among
    /// them. Waits for that many slots of the budget.
    pub fn pass<R>(&self, threads: Option<usize>, pass: impl FnOnce(&Pass) -> R) -> R {
        if IN_PASS.with(Cell::get) {
            return pass(&Pass { crew: None, threads: 1 });
        }
        let turn = self.turn(self.pass_threads(threads), false);
        let crew = self.start_crew(&turn.workers);
        let result = pass(&Pass { crew: crew.0.as_deref(), threads: 1 + turn.workers.len() });
        drop(crew);
        drop(turn);
        result
    }

    /// Like `pass`, but the pass runs on one of the team's workers while
    /// the calling thread sleeps. Used when other callers are waiting for
    /// the result too (a micro-batch): they and the caller are then many
    /// threads on few cores, and a pass whose threads are all the team's
    /// own keeps going while they are scheduled in and out (with the caller
    /// computing, the pass stalls at every step its caller is preempted in:
    /// 16 callers encode 20% fewer texts a second).
    pub fn pass_on_leader<R: Send>(&self, threads: Option<usize>, pass: impl FnOnce(&Pass) -> R + Send) -> R {
        let threads = self.pass_threads(threads);
        if threads < 2 || IN_PASS.with(Cell::get) {
            return self.pass(Some(threads), pass);
        }
        let turn = self.turn(threads, true);
        if turn.workers.is_empty() {
            // Stopped: the caller runs it alone.
            let result = pass(&Pass { crew: None, threads: 1 });
            drop(turn);
            return result;
        }
        let leader = turn.workers[0];
        let crew = self.start_crew(&turn.workers[1..]);
        let width = turn.workers.len();
        let done: Arc<(Mutex<Option<std::thread::Result<R>>>, Condvar)> = Arc::new((Mutex::new(None), Condvar::new()));
        let theirs = Arc::clone(&done);
        let crew_ref = crew.0.as_deref();
        let errand = move || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| pass(&Pass { crew: crew_ref, threads: width })));
            let (slot, ready) = &*theirs;
            *lock(slot) = Some(result);
            ready.notify_one();
        };
        let errand: Box<dyn FnOnce() + Send + '_> = Box::new(errand);
        // SAFETY: the lifetime is erased only until the errand has run: this
        // function does not return before the worker has stored its result
        // (the errand's last use of anything borrowed), and a worker always
        // runs the mail it was handed, stopped or not (`work`).
        let errand: Errand = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + '_>, Errand>(errand) };
        self.deliver(leader, Mail::Errand(errand));
        let (slot, ready) = &*done;
        let mut result = lock(slot);
        let result = loop {
            if let Some(result) = result.take() {
                break result;
            }
            result = ready.wait(result).unwrap_or_else(|p| p.into_inner());
        };
        drop(crew);
        drop(turn);
        result.unwrap_or_else(|payload| panic::resume_unwind(payload))
    }

    fn stop(&self) {
        {
            // Passes that take their turn from now on get no crew.
            let mut state = lock(&self.state);
            state.stopped = true;
            self.shared.stop.store(true, Ordering::SeqCst);
        }
        for worker in &self.shared.workers {
            let _mailbox = lock(&worker.mailbox);
            worker.delivered.notify_one();
        }
        // Each worker returns once the pass it serves, if any, is over.
        let handles: Vec<_> = lock(&self.handles).drain(..).collect();
        for handle in handles {
            let _ = handle.join();
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A pass in progress: the right to run steps on its crew.
pub(crate) struct Pass<'t> {
    crew: Option<&'t Crew>,
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
        Pass { crew: None, threads: 1 }
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
                *lock(&parts[t]) = mine;
            }
        });
        parts.into_iter().flat_map(|part| part.into_inner().unwrap_or_else(|p| p.into_inner())).collect()
    }

    /// Calls `step(t)` for every t in `0..threads()`, in parallel, the
    /// calling thread taking t = 0; returns when all are done. A panic in
    /// any of them is raised here, after every thread has left `step`.
    pub fn run(&self, step: &(dyn Fn(usize) + Sync)) {
        let Some(crew) = self.crew.filter(|_| self.threads > 1) else {
            return step(0);
        };
        // SAFETY: the lifetime is erased only for the duration of this
        // call: `Finish` below waits (even while unwinding) until no worker
        // is inside `step` any more.
        let erased: &'static Step = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Step>(step) };
        // SAFETY: only this pass's thread writes `step`, and pending == 0:
        // no worker reads it.
        unsafe { *crew.step.get() = Some(erased) };
        crew.panicked.store(false, Ordering::Relaxed);
        crew.pending.store(crew.members, Ordering::Relaxed);
        crew.generation.fetch_add(1, Ordering::Release);
        if *lock(&crew.parked) > 0 {
            crew.wake.notify_all();
        }

        struct Finish<'a>(&'a Crew);
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
                // SAFETY: every worker is done with the step.
                unsafe { *self.0.step.get() = None };
            }
        }
        let finish = Finish(crew);
        step(0);
        drop(finish);
        if crew.panicked.swap(false, Ordering::Relaxed) {
            panic!("a forward-pass helper thread panicked");
        }
    }
}

/// A worker's life: parked until handed mail, then serving it; returns
/// once the team stops and its mailbox is empty.
fn work(shared: &Shared, index: usize) {
    IN_PASS.with(|p| p.set(true));
    let worker = &shared.workers[index];
    loop {
        let mail = {
            let mut mailbox = lock(&worker.mailbox);
            loop {
                if let Some(mail) = mailbox.mail.take() {
                    break mail;
                }
                if shared.stop.load(Ordering::SeqCst) && !mailbox.reserved {
                    return;
                }
                shared.parked.fetch_add(1, Ordering::SeqCst);
                mailbox = worker.delivered.wait(mailbox).unwrap_or_else(|p| p.into_inner());
                shared.parked.fetch_sub(1, Ordering::SeqCst);
            }
        };
        match mail {
            Mail::Crew(crew, index) => serve(shared, &crew, index),
            // (The errand catches the pass's panics itself.)
            Mail::Errand(errand) => errand(),
        }
    }
}

/// Runs each step of `crew`'s pass as thread `index`, until the pass ends.
fn serve(shared: &Shared, crew: &Crew, index: usize) {
    let mut seen = 0u64;
    while let Some(generation) = wait_for_step(shared, crew, seen) {
        seen = generation;
        // SAFETY: the new generation was published after `step` was set,
        // and the pass's thread keeps it alive until `pending` reaches 0.
        let step = unsafe { *crew.step.get() };
        if let Some(step) = step {
            if panic::catch_unwind(AssertUnwindSafe(|| step(index))).is_err() {
                crew.panicked.store(true, Ordering::Relaxed);
            }
        }
        crew.pending.fetch_sub(1, Ordering::Release);
    }
}

/// Waits until the crew's generation moves past `seen` (returns the new
/// one) or its pass ends (`None`). Spins for at most the crew's `spins`
/// hints (its next step is microseconds away), then parks.
fn wait_for_step(shared: &Shared, crew: &Crew, seen: u64) -> Option<u64> {
    let start = Instant::now();
    for _ in 0..crew.spins {
        let now = crew.generation.load(Ordering::Acquire);
        if now != seen {
            add_spin(start);
            return Some(now);
        }
        if crew.done.load(Ordering::Acquire) {
            add_spin(start);
            return None;
        }
        std::hint::spin_loop();
    }
    add_spin(start);
    let mut parked = lock(&crew.parked);
    *parked += 1;
    shared.parked.fetch_add(1, Ordering::SeqCst);
    let next = loop {
        let now = crew.generation.load(Ordering::Acquire);
        if now != seen {
            break Some(now);
        }
        if crew.done.load(Ordering::Acquire) {
            break None;
        }
        parked = crew.wake.wait(parked).unwrap_or_else(|p| p.into_inner());
    };
    *parked -= 1;
    shared.parked.fetch_sub(1, Ordering::SeqCst);
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Polls `condition` for at most 10 s; whether it held.
    fn until(condition: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if condition() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    /// `f` on a thread of its own: its result, or `None` if it took more
    /// than 30 s (a deadlock: the thread is left behind).
    fn within_30s<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = send.send(f());
        });
        receive.recv_timeout(Duration::from_secs(30)).ok()
    }

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
        // Workers parked between passes wake for the next one.
        std::thread::sleep(Duration::from_millis(20));
        team.pass(None, |pass| pass.run(&|t| {
            counts[t].fetch_add(1, Ordering::Relaxed);
        }));
        team.pass_on_leader(None, |pass| pass.run(&|t| {
            counts[t].fetch_add(1, Ordering::Relaxed);
        }));
        assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1002));
    }

    #[test]
    fn workers_park_when_a_pass_ends_and_wake_when_the_next_one_starts() {
        // Spinning without limit: only the end of the pass can park them.
        let team = Team::with_spins(3, u32::MAX).expect("team");
        let steps = AtomicUsize::new(0);
        team.pass(None, |pass| pass.run(&|_| {
            steps.fetch_add(1, Ordering::Relaxed);
        }));
        assert!(until(|| team.counters().parked == 3), "workers still spinning after the pass");
        team.pass(None, |pass| {
            // Its crew woken by the pass's start, before its first step;
            // the third worker, in no pass, stays parked.
            assert!(until(|| team.counters().parked == 1), "crew still parked in a pass");
            pass.run(&|_| {
                steps.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(steps.load(Ordering::Relaxed), 6);
        assert!(until(|| team.counters().parked == 3));
    }

    #[test]
    fn workers_outside_a_narrow_pass_stay_parked() {
        // A budget of 8, a pass of 2: one worker spins (without limit, here)
        // in its crew, the other seven stay parked through every step.
        let team = Team::with_spins(8, u32::MAX).expect("team");
        let steps = AtomicUsize::new(0);
        team.pass(Some(2), |pass| {
            assert_eq!(pass.threads(), 2);
            for _ in 0..200 {
                pass.run(&|_| {
                    steps.fetch_add(1, Ordering::Relaxed);
                });
                assert_eq!(team.counters().running, 2);
            }
            assert!(until(|| team.counters().parked == 7), "{:?}", team.counters());
            for _ in 0..200 {
                pass.run(&|_| {
                    steps.fetch_add(1, Ordering::Relaxed);
                });
            }
            assert_eq!(team.counters().parked, 7, "a step woke workers of no pass");
        });
        assert_eq!(steps.load(Ordering::Relaxed), 800);
        assert_eq!(team.counters().most_running, 2);
    }

    /// Waits (at most 10 s) until `count` threads have called it; whether
    /// they all did.
    fn rendezvous(arrived: &AtomicUsize, count: usize) -> bool {
        arrived.fetch_add(1, Ordering::SeqCst);
        until(|| arrived.load(Ordering::SeqCst) >= count)
    }

    #[test]
    fn narrow_passes_run_side_by_side_each_with_its_crew() {
        // A budget of 4, two callers with passes of 2: both passes run at
        // once, all four threads inside one step together (were the
        // passes taking turns, the step could never gather four).
        for on_worker in [false, true] {
            let team = Team::new(4).expect("team");
            let rounds: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            let met = AtomicBool::new(true);
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let (team, rounds, met) = (&team, &rounds, &met);
                    s.spawn(move || {
                        let body = |pass: &Pass| {
                            assert_eq!(pass.threads(), 2);
                            for round in rounds {
                                pass.run(&|_| {
                                    if !rendezvous(round, 4) {
                                        met.store(false, Ordering::SeqCst);
                                    }
                                });
                            }
                        };
                        if on_worker {
                            team.pass_on_leader(Some(2), body);
                        } else {
                            team.pass(Some(2), body);
                        }
                    });
                }
            });
            assert!(met.load(Ordering::SeqCst), "the two passes did not run at once (on a worker: {on_worker})");
            assert_eq!(team.counters().most_running, 4);
            assert!(until(|| team.counters().parked == 4));
        }
    }

    #[test]
    fn a_panicking_worker_surfaces_in_the_caller_and_the_team_goes_on() {
        let team = Team::new(2).expect("team");
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            team.pass(None, |pass| pass.run(&|t| assert_ne!(t, 1, "worker fails")))
        }));
        assert!(caught.is_err());
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            team.pass_on_leader(None, |pass| pass.run(&|t| assert_ne!(t, 0, "leading worker fails")))
        }));
        assert!(caught.is_err());
        let sum = AtomicUsize::new(0);
        team.pass(None, |pass| pass.run(&|t| {
            sum.fetch_add(t + 1, Ordering::Relaxed);
        }));
        assert_eq!(sum.load(Ordering::Relaxed), 3);
        assert_eq!(team.counters().running, 0, "every pass gave its threads back");
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
                    for i in 0..passes {
                        let body = |pass: &Pass| {
                            let now = busy.fetch_add(pass.threads(), Ordering::SeqCst) + pass.threads();
                            most.fetch_max(now, Ordering::SeqCst);
                            pass.run(&|_| std::thread::sleep(Duration::from_millis(1)));
                            busy.fetch_sub(pass.threads(), Ordering::SeqCst);
                        };
                        if i % 2 == 0 {
                            team.pass(Some(width(caller)), body);
                        } else {
                            team.pass_on_leader(Some(width(caller)), body);
                        }
                    }
                });
            }
        });
        assert!(team.counters().most_running <= team.threads);
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
        let team = Team::new(4).expect("team");
        let most = most_busy_at_once(&team, 8, 30, |caller| 1 + caller % 2);
        assert!(most <= 4, "{most} threads busy with a budget of 4");
        assert_eq!(team.counters().running, 0);
        assert!(until(|| team.counters().parked == 4));
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
        // A pass started inside a pass on a worker, too.
        assert_eq!(team.pass_on_leader(None, |_| team.pass(None, |pass| pass.threads())), 1);
        assert_eq!(team.pass_on_leader(None, |pass| pass.threads()), 2);
    }

    #[test]
    fn stop_while_a_pass_waits_for_its_turn_neither_hangs() {
        // A pass holds the whole budget; another waits for its turn (its
        // ticket taken); `stop` comes meanwhile. The waiting pass must
        // still run (alone: the team is stopping), and `stop` return.
        // (It used to take its turn after `stop` had joined the helpers,
        // then spin forever waiting for them, or wait for the leader
        // thread, which waited for it.)
        for on_worker in [false, true] {
            let outcome = within_30s(move || {
                let team = Arc::new(Team::new(3).expect("team"));
                let (holding, held) = mpsc::channel();
                let (release, released) = mpsc::channel::<()>();
                let first = {
                    let team = Arc::clone(&team);
                    std::thread::spawn(move || {
                        team.pass(None, |pass| {
                            holding.send(()).unwrap();
                            released.recv().unwrap();
                            let sum = AtomicUsize::new(0);
                            pass.run(&|t| {
                                sum.fetch_add(t + 1, Ordering::SeqCst);
                            });
                            sum.load(Ordering::SeqCst)
                        })
                    })
                };
                held.recv().unwrap();
                let second = {
                    let team = Arc::clone(&team);
                    std::thread::spawn(move || {
                        let body = |pass: &Pass| {
                            let sum = AtomicUsize::new(0);
                            pass.run(&|t| {
                                sum.fetch_add(t + 1, Ordering::SeqCst);
                            });
                            (pass.threads(), sum.load(Ordering::SeqCst))
                        };
                        if on_worker { team.pass_on_leader(None, body) } else { team.pass(None, body) }
                    })
                };
                assert!(until(|| lock(&team.state).next == 2), "the second pass waits for its turn");
                let stopper = {
                    let team = Arc::clone(&team);
                    std::thread::spawn(move || team.stop())
                };
                assert!(until(|| team.shared.stop.load(Ordering::SeqCst)), "stop began");
                release.send(()).unwrap();
                let first = first.join().unwrap();
                let second = second.join().unwrap();
                stopper.join().unwrap();
                // Later passes run on their caller alone.
                (first, second, team.pass(None, |pass| pass.threads()), team.counters())
            });
            let (first, second, later, counters) = outcome.unwrap_or_else(|| panic!("deadlock (on a worker: {on_worker})"));
            assert_eq!(first, 1 + 2 + 3, "the pass under way finished with its crew");
            assert_eq!(second, (1, 1), "the waiting pass ran alone");
            assert_eq!(later, 1);
            assert_eq!(counters.running, 0);
        }
    }

    #[test]
    fn stop_racing_passes_of_every_kind_neither_hangs_nor_loses_a_step() {
        // Callers making passes of every width, on their thread and on a
        // worker, while the team stops: every pass runs each of its steps
        // on each of its threads, and `stop` returns.
        for round in 0..20 {
            let outcome = within_30s(move || {
                let team = Arc::new(Team::new(3).expect("team"));
                let callers: Vec<_> = (0..4)
                    .map(|caller| {
                        let team = Arc::clone(&team);
                        std::thread::spawn(move || {
                            for i in 0..50 {
                                let body = |pass: &Pass| {
                                    let hits = AtomicUsize::new(0);
                                    for _ in 0..3 {
                                        pass.run(&|_| {
                                            hits.fetch_add(1, Ordering::SeqCst);
                                        });
                                    }
                                    assert_eq!(hits.load(Ordering::SeqCst), 3 * pass.threads());
                                };
                                let width = Some(1 + (caller + i) % 3);
                                if i % 2 == 0 { team.pass(width, body) } else { team.pass_on_leader(width, body) }
                            }
                        })
                    })
                    .collect();
                std::thread::sleep(Duration::from_micros(200 * round));
                team.stop();
                for caller in callers {
                    caller.join().expect("every step ran on every thread");
                }
                team.counters()
            });
            let counters = outcome.unwrap_or_else(|| panic!("deadlock in round {round}"));
            assert_eq!(counters.running, 0);
        }
    }

    #[test]
    fn a_failed_spawn_stops_what_started_and_a_later_team_starts() {
        // Two workers start, the third spawn fails (that nothing stays
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
