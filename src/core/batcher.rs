//! Dynamic micro-batching: single texts encoded at the same time by many
//! threads go through the transformer together, in one forward pass.
//!
//! There is no batching thread and no timer. A caller queues its (already
//! tokenized) text; if no forward pass is running it becomes the leader:
//! it takes the queue's oldest texts, up to the batch size and the token
//! budget, runs them, and hands each caller of the pass its result. Callers
//! that arrive while a pass runs wait for the next one, which the oldest of
//! them leads. A lone caller therefore never waits for anyone (its latency
//! is a plain forward pass plus one uncontended lock), and under load the
//! batch grows by itself with the number of callers.
//!
//! Locks: the queue's lock is held only to push, take a batch, or hand on
//! the lead, never during a pass; each request has its own lock and
//! condition variable, taken to store its result (or its turn to lead) and
//! to wait for it. So a pass wakes exactly the callers it has results for,
//! plus the one caller that leads next, and new callers can queue while a
//! pass runs. Lock order: the queue, then a request; a waiter holds only
//! its own request's lock.
//!
//! Gathering: the callers a pass has just served usually come straight back
//! with their next text. A leader first waits, queue lock released, until
//! as many texts have arrived since the last pass ended as that pass
//! served, or a short limit after that pass's end (a sixteenth of the
//! pass's time, at most 2 ms) has passed. The served callers' own work
//! (back to Java, the next call, its tokenization) then runs before the
//! pass instead of preempting its threads (each preemption of one thread
//! of a pass idles the others at its next step), even when the queue
//! already holds a full batch, and passes stay full instead of
//! alternating between large and small. A lone caller never waits: it is
//! all its last pass served.
//!
//! Failures stay per text: when a pass fails or panics, each of its texts is
//! run again alone, so the text that fails gets its own error and the other
//! callers their vectors.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::error::{Error, Result};
use super::tokenize::Tokens;

/// One queued text, and what its caller waits for.
struct Request {
    tokens: Tokens,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    result: Option<Result<Vec<f32>>>,
    /// The previous leader handed this caller the lead.
    lead: bool,
}

impl Request {
    fn new(tokens: Tokens) -> Arc<Self> {
        Arc::new(Self { tokens, state: Mutex::default(), changed: Condvar::new() })
    }

    fn set(&self, update: impl FnOnce(&mut State)) {
        update(&mut self.state.lock());
        self.changed.notify_one();
    }
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Arc<Request>>,
    /// Whether a leader is running (or gathering for) a forward pass now.
    running: bool,
    /// Texts the last pass served, texts queued since it ended, and when
    /// gathering for the next pass stops waiting for them.
    served: usize,
    arrived: usize,
    gather_until: Option<Instant>,
    /// A leader waits on `Batcher::arrival` for texts to gather.
    gathering: bool,
}

/// The longest a leader waits to gather texts.
const MAX_GATHER: Duration = Duration::from_millis(2);

pub(crate) struct Batcher {
    queue: Mutex<Queue>,
    /// Signalled when the texts a gathering leader waits for have arrived.
    arrival: Condvar,
    max_texts: usize,
    max_tokens: usize,
    passes: AtomicU64,
    texts: AtomicU64,
    /// Callers inside `encode` now.
    callers: AtomicUsize,
    /// Times a waiting caller was woken (for its result or the lead).
    wakeups: AtomicU64,
    /// Times a leader waited to gather texts.
    gathers: AtomicU64,
    /// Times a leader stopped gathering at the limit, texts still missing.
    gather_timeouts: AtomicU64,
    /// Test hook: called by a caller handed the lead, before it takes the
    /// queue's lock again (a newcomer may take the lead meanwhile).
    #[cfg(test)]
    on_lead_handed: Mutex<Option<Box<dyn Fn() + Send>>>,
}

/// A forward pass: a batch of texts to one vector per text, in order.
pub(crate) type Forward<'a> = dyn Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>> + 'a;

impl Batcher {
    /// Batches hold at most `max_texts` texts and `max_tokens` tokens.
    pub fn new(max_texts: usize, max_tokens: usize) -> Self {
        Self {
            queue: Mutex::default(),
            arrival: Condvar::new(),
            max_texts: max_texts.max(1),
            max_tokens,
            passes: AtomicU64::new(0),
            texts: AtomicU64::new(0),
            callers: AtomicUsize::new(0),
            wakeups: AtomicU64::new(0),
            gathers: AtomicU64::new(0),
            gather_timeouts: AtomicU64::new(0),
            #[cfg(test)]
            on_lead_handed: Mutex::new(None),
        }
    }

    /// Forward passes run so far, and the texts they held.
    pub fn stats(&self) -> (u64, u64) {
        (self.passes.load(Ordering::Relaxed), self.texts.load(Ordering::Relaxed))
    }

    /// Whether other callers than the one asking are inside `encode` now
    /// (waiting for a pass, or about to queue): then a pass is better run
    /// by threads of its own than by its leader (see `cpu::team`).
    pub fn crowded(&self) -> bool {
        self.callers.load(Ordering::Relaxed) > 1
    }

    /// The vector of `tokens`, computed in whatever pass it is queued for.
    /// `forward` maps a batch to its vectors, one `Vec` per text, in order.
    pub fn encode(&self, tokens: Tokens, forward: impl Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>>) -> Result<Vec<f32>> {
        struct Inside<'a>(&'a AtomicUsize);
        impl Drop for Inside<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.callers.fetch_add(1, Ordering::Relaxed);
        let _inside = Inside(&self.callers);
        let mine = Request::new(tokens);
        let mut queue = self.queue.lock();
        queue.waiting.push_back(mine.clone());
        queue.arrived += 1;
        if queue.gathering && queue.arrived >= queue.served {
            self.arrival.notify_one();
        }
        loop {
            // (A caller handed the lead may find the queue empty: a
            // newcomer took the lead first and its pass took every text,
            // this caller's too. It waits for its result, running nothing.)
            if !queue.running && !queue.waiting.is_empty() {
                queue.running = true;
                queue = self.gather(queue);
                let batch = self.take_batch(&mut queue.waiting);
                drop(queue);
                let started = Instant::now();
                let results = self.run(&batch, &forward);
                let ended = Instant::now();
                queue = self.queue.lock();
                queue.running = false;
                let limit = ((ended - started) / 16).min(MAX_GATHER);
                (queue.served, queue.arrived, queue.gather_until) = (batch.len(), 0, Some(ended + limit));
                // The oldest caller still queued leads the next pass.
                if let Some(next) = queue.waiting.front() {
                    next.set(|s| s.lead = true);
                }
                drop(queue);
                // Results last, after the count of arrivals restarted: a
                // caller served here comes back counted as arrived since
                // this pass ended (else the next leader, not seeing it,
                // would wait for the whole gathering limit).
                for (request, result) in batch.iter().zip(results) {
                    request.set(|s| s.result = Some(result));
                }
            } else {
                drop(queue);
            }
            {
                let mut state = mine.state.lock();
                while state.result.is_none() && !state.lead {
                    mine.changed.wait(&mut state);
                    self.wakeups.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(result) = state.result.take() {
                    return result;
                }
                state.lead = false;
            }
            #[cfg(test)]
            if let Some(hook) = &*self.on_lead_handed.lock() {
                hook();
            }
            // Handed the lead: unless a newcomer took it meanwhile (then
            // this caller is handed it again when that pass ends), run the
            // next pass.
            queue = self.queue.lock();
        }
    }

    /// Waits (queue lock released) until as many texts arrived since the
    /// last pass ended as it served, or the gathering limit after that
    /// pass's end passed (see the module's documentation).
    fn gather<'q>(&self, mut queue: MutexGuard<'q, Queue>) -> MutexGuard<'q, Queue> {
        let Some(deadline) = queue.gather_until.filter(|&d| d > Instant::now()) else { return queue };
        if queue.arrived < queue.served {
            self.gathers.fetch_add(1, Ordering::Relaxed);
        }
        queue.gathering = true;
        while queue.arrived < queue.served {
            if self.arrival.wait_until(&mut queue, deadline).timed_out() {
                self.gather_timeouts.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        queue.gathering = false;
        queue
    }

    /// The oldest queued requests that fit one pass (at least one, if any
    /// is queued).
    fn take_batch(&self, waiting: &mut VecDeque<Arc<Request>>) -> Vec<Arc<Request>> {
        let mut batch = Vec::new();
        let mut tokens = 0;
        while let Some(next) = waiting.front() {
            let len = next.tokens.len();
            if !batch.is_empty() && (batch.len() == self.max_texts || tokens + len > self.max_tokens) {
                break;
            }
            tokens += len;
            batch.extend(waiting.pop_front());
        }
        batch
    }

    /// Runs one pass: a result per request, in order.
    fn run(&self, batch: &[Arc<Request>], forward: &Forward) -> Vec<Result<Vec<f32>>> {
        self.passes.fetch_add(1, Ordering::Relaxed);
        self.texts.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let tokens: Vec<&Tokens> = batch.iter().map(|r| &r.tokens).collect();
        forward_each(&tokens, forward)
    }
}

/// One result per text of `batch`: the pass's vectors, or, when the pass
/// fails or panics, each text's own outcome run alone (so one bad text
/// costs only its own caller).
pub(crate) fn forward_each(batch: &[&Tokens], forward: &Forward) -> Vec<Result<Vec<f32>>> {
    match guarded(batch, forward) {
        Ok(vectors) => vectors.into_iter().map(Ok).collect(),
        Err(_) if batch.len() > 1 => {
            batch.iter().map(|t| guarded(std::slice::from_ref(t), forward).map(|mut v| v.remove(0))).collect()
        }
        Err(e) => vec![Err(e)],
    }
}

/// `forward`, with a panic turned into an error and the vector count checked.
fn guarded(batch: &[&Tokens], forward: &Forward) -> Result<Vec<Vec<f32>>> {
    match catch_unwind(AssertUnwindSafe(|| forward(batch))) {
        Ok(Ok(vectors)) if vectors.len() == batch.len() => Ok(vectors),
        Ok(Ok(vectors)) => {
            Err(Error::Internal(format!("a batch of {} texts gave {} vectors", batch.len(), vectors.len())))
        }
        Ok(Err(e)) => Err(e),
        Err(panic) => Err(Error::Internal(format!("panic in a forward pass: {}", panic_message(&*panic)))),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;

    fn tokens(id: u32, len: usize) -> Tokens {
        Tokens { ids: vec![id; len], type_ids: vec![0; len], truncated: false, pooling_skip: 0 }
    }

    /// A fake forward pass: each text's vector is its first id, and every
    /// batch size is recorded.
    fn fake(sizes: &Mutex<Vec<usize>>) -> impl Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>> + Sync + '_ {
        fake_taking(sizes, 2)
    }

    /// `fake`, taking `ms` milliseconds a pass.
    fn fake_taking(sizes: &Mutex<Vec<usize>>, ms: u64) -> impl Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>> + Sync + '_ {
        move |batch| {
            sizes.lock().push(batch.len());
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Ok(batch.iter().map(|t| vec![t.ids[0] as f32]).collect())
        }
    }

    type Fake<'a> = dyn Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>> + Sync + 'a;

    /// `callers` threads, started together, each encoding `rounds` texts
    /// of its own one at a time (each getting its own vector back), with
    /// `own_work` of its own between calls.
    fn run_callers(batcher: &Batcher, callers: u32, rounds: u32, forward: &Fake, own_work: std::time::Duration) {
        let start = Barrier::new(callers as usize);
        std::thread::scope(|s| {
            for id in 0..callers {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    for round in 0..rounds {
                        let text = id * 100 + round;
                        assert_eq!(batcher.encode(tokens(text, 2), forward).unwrap(), vec![text as f32]);
                        std::thread::sleep(own_work);
                    }
                });
            }
        });
    }

    #[test]
    fn a_lone_caller_runs_its_own_pass() {
        let batcher = Batcher::new(32, 1000);
        let sizes = Mutex::new(vec![]);
        for id in 0..5 {
            assert_eq!(batcher.encode(tokens(id, 3), fake(&sizes)).unwrap(), vec![id as f32]);
        }
        assert_eq!(*sizes.lock(), vec![1; 5]);
        assert_eq!(batcher.gathers.load(Ordering::Relaxed), 0, "a lone caller never waits to gather");
    }

    #[test]
    fn a_leader_gathers_the_callers_the_last_pass_served() {
        // Two callers, one text at a time each, with a millisecond of
        // their own work between calls. Without gathering they alternate
        // passes of one text (each queues while the other's pass runs, and
        // leads the next one as soon as it is woken); with it, the second
        // waits for the first to come back, and passes hold both.
        // (Gathering waits at most a sixteenth of a pass: 2 ms here.)
        let batcher = Batcher::new(32, 1000);
        let sizes = Mutex::new(vec![]);
        // The callers' own work between calls (a JVM caller: back to Java
        // and in again, tokenizing): a millisecond.
        run_callers(&batcher, 2, 20, &fake_taking(&sizes, 32), std::time::Duration::from_millis(1));
        let sizes = sizes.lock();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.len() <= 25, "passes of both callers' texts: {sizes:?}");
    }

    #[test]
    fn concurrent_callers_share_passes_and_each_gets_its_own_vector() {
        let batcher = Batcher::new(8, 1000);
        let sizes = Mutex::new(vec![]);
        let start = Barrier::new(32);
        std::thread::scope(|s| {
            for id in 0..32u32 {
                let (batcher, sizes, start) = (&batcher, &sizes, &start);
                s.spawn(move || {
                    start.wait();
                    for round in 0..10u32 {
                        let want = (id * 100 + round) as f32;
                        assert_eq!(batcher.encode(tokens(id * 100 + round, 4), fake(sizes)).unwrap(), vec![want]);
                    }
                });
            }
        });
        let sizes = sizes.lock();
        assert_eq!(sizes.iter().sum::<usize>(), 320, "every text in exactly one pass");
        assert!(sizes.iter().all(|&n| n <= 8), "batch size cap: {sizes:?}");
        assert!(sizes.len() < 320 / 2, "texts were coalesced: {} passes", sizes.len());
    }

    #[test]
    fn the_token_budget_caps_a_pass_but_a_long_text_still_runs() {
        let batcher = Batcher::new(64, 10);
        let mut queue = VecDeque::new();
        for len in [4, 4, 4, 30] {
            queue.push_back(Request::new(tokens(1, len)));
        }
        assert_eq!(batcher.take_batch(&mut queue).len(), 2, "4 + 4 fit 10 tokens, a third does not");
        assert_eq!(batcher.take_batch(&mut queue).len(), 1);
        assert_eq!(batcher.take_batch(&mut queue).len(), 1, "a text over the budget goes alone");
        assert!(queue.is_empty());
    }

    #[test]
    fn errors_and_panics_reach_their_caller_and_the_queue_lives_on() {
        let batcher = Batcher::new(8, 1000);
        let calls = AtomicUsize::new(0);
        let flaky = |batch: &[&Tokens]| -> Result<Vec<Vec<f32>>> {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => panic!("boom"),
                1 => Err(Error::InvalidArgument("bad".into())),
                _ => Ok(batch.iter().map(|_| vec![1.0]).collect()),
            }
        };
        let err = batcher.encode(tokens(1, 2), flaky).unwrap_err().to_string();
        assert!(err.contains("panic") && err.contains("boom"), "{err}");
        let err = batcher.encode(tokens(1, 2), flaky).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(ref m) if m == "bad"), "the error itself, not flattened: {err:?}");
        assert_eq!(batcher.encode(tokens(1, 2), flaky).unwrap(), vec![1.0]);
    }

    /// A forward pass that fails (or panics) for any batch holding id 666.
    fn poisoned(batch: &[&Tokens]) -> Result<Vec<Vec<f32>>> {
        std::thread::sleep(std::time::Duration::from_millis(3));
        match batch.iter().position(|t| t.ids[0] == 666) {
            Some(_) if batch.len().is_multiple_of(2) => panic!("poisoned text in a batch of {}", batch.len()),
            Some(i) => Err(Error::Tokenization(format!("text {i} is poisoned"))),
            None => Ok(batch.iter().map(|t| vec![t.ids[0] as f32]).collect()),
        }
    }

    #[test]
    fn a_failing_text_fails_alone_and_its_pass_mates_get_their_vectors() {
        let batcher = Batcher::new(8, 1000);
        let start = Barrier::new(16);
        let failures = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for id in 0..16u32 {
                let (batcher, start, failures) = (&batcher, &start, &failures);
                s.spawn(move || {
                    start.wait();
                    for round in 0..20u32 {
                        let text = if id == 3 && round % 4 == 0 { 666 } else { id * 100 + round + 1 };
                        match batcher.encode(tokens(text, 2), poisoned) {
                            Ok(v) => assert_eq!(v, vec![text as f32]),
                            Err(e) => {
                                assert_eq!(text, 666, "a good text failed: {e}");
                                assert!(e.to_string().contains("poisoned"), "the real message: {e}");
                                failures.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(failures.load(Ordering::SeqCst), 5, "exactly the poisoned texts failed");
        let (passes, texts) = batcher.stats();
        assert!(texts < 2 * 320 && passes < 320, "still batched: {passes} passes, {texts} texts");
    }

    #[test]
    fn callers_served_by_a_pass_count_as_arrived_for_the_next() {
        // Eight callers with no work of their own between calls: each
        // comes straight back, so the next leader's gathering ends as soon
        // as they are all queued, never at its limit (2 ms after a pass of
        // 32). A caller that came back before the pass's leader restarted
        // the count of arrivals used to go uncounted, and the next leader
        // waited out the limit with a full queue.
        let batcher = Batcher::new(32, 1000);
        let sizes = Mutex::new(vec![]);
        run_callers(&batcher, 8, 10, &fake_taking(&sizes, 32), std::time::Duration::ZERO);
        let (passes, timeouts) = (batcher.stats().0, batcher.gather_timeouts.load(Ordering::Relaxed));
        assert!(timeouts * 4 <= passes, "{timeouts} of {passes} gatherings waited out their limit");
    }

    #[test]
    fn a_caller_whose_lead_was_taken_runs_no_empty_pass() {
        // A pass ends and hands the lead to the caller queued during it;
        // before that caller takes the queue again, a newcomer takes the
        // lead and runs a pass holding both texts. The caller handed the
        // lead then finds an empty queue: it must not run a pass of nothing.
        let batcher = Batcher::new(8, 1000);
        let sizes = Mutex::new(vec![]);
        let forward = fake(&sizes);
        let (handed, handed_seen) = std::sync::mpsc::channel::<()>();
        let (newcomer_done, wait_for_newcomer) = std::sync::mpsc::channel::<()>();
        let wait_for_newcomer = Mutex::new(wait_for_newcomer);
        let handed = Mutex::new(handed);
        *batcher.on_lead_handed.lock() = Some(Box::new(move || {
            let _ = handed.lock().send(());
            let _ = wait_for_newcomer.lock().recv_timeout(std::time::Duration::from_secs(10));
        }));
        let first_pass_running = Barrier::new(2);
        std::thread::scope(|s| {
            let (batcher, forward, first_pass_running) = (&batcher, &forward, &first_pass_running);
            // The first caller leads a pass that lasts until the second has queued.
            s.spawn(move || {
                let slow = |batch: &[&Tokens]| {
                    first_pass_running.wait();
                    while batcher.queue.lock().waiting.is_empty() {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    forward(batch)
                };
                assert_eq!(batcher.encode(tokens(1, 2), slow).unwrap(), vec![1.0]);
            });
            first_pass_running.wait();
            // The second queues during that pass and is handed the lead.
            let second = s.spawn(move || batcher.encode(tokens(2, 2), forward).unwrap());
            handed_seen.recv_timeout(std::time::Duration::from_secs(10)).expect("the lead was handed on");
            // A newcomer takes the lead first and serves both texts.
            assert_eq!(batcher.encode(tokens(3, 2), forward).unwrap(), vec![3.0]);
            newcomer_done.send(()).unwrap();
            assert_eq!(second.join().unwrap(), vec![2.0]);
        });
        assert_eq!(*sizes.lock(), vec![1, 2], "passes run: no empty one");
        assert_eq!(batcher.stats(), (2, 3));
    }

    #[test]
    fn a_pass_wakes_only_its_own_callers_and_the_next_leader() {
        // 64 callers, batches of 4: were every waiter woken by every pass,
        // each caller would wake about 16 times; here each wakes for its
        // result, and at most once more for the lead it is handed.
        let batcher = Batcher::new(4, 1000);
        let start = Barrier::new(64);
        let sizes = Mutex::new(vec![]);
        std::thread::scope(|s| {
            for id in 0..64u32 {
                let (batcher, start, sizes) = (&batcher, &start, &sizes);
                s.spawn(move || {
                    start.wait();
                    assert_eq!(batcher.encode(tokens(id, 2), fake(sizes)).unwrap(), vec![id as f32]);
                });
            }
        });
        assert_eq!(sizes.lock().iter().sum::<usize>(), 64);
        assert!(batcher.queue.lock().waiting.is_empty());
        let (passes, wakeups) = (batcher.stats().0, batcher.wakeups.load(Ordering::Relaxed));
        assert!(wakeups <= 64 + passes, "{wakeups} wake-ups for 64 callers in {passes} passes");
    }
}
