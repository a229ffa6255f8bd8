//! Dynamic micro-batching: single texts encoded at the same time by many
//! threads go through the transformer together, in one forward pass.
//!
//! There is no batching thread and no timer. A caller queues its (already
//! tokenized) text; if no forward pass is running it becomes the leader:
//! it takes the queue's oldest texts, up to the batch size and the token
//! budget, runs them, hands every waiting caller its vector and wakes them.
//! Callers that arrive while a pass runs wait for the next one, which the
//! first of them to wake up leads. A lone caller therefore never waits for
//! anyone (its latency is a plain forward pass plus one uncontended lock),
//! and under load the batch grows by itself with the number of callers.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::error::{Error, Result};
use super::tokenize::Tokens;

/// One queued text and, once its pass has run, its vector.
struct Request {
    tokens: Tokens,
    result: Option<Result<Vec<f32>>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Arc<Mutex<Request>>>,
    /// Whether a leader is running a forward pass now.
    running: bool,
}

pub(crate) struct Batcher {
    queue: Mutex<Queue>,
    done: Condvar,
    max_texts: usize,
    max_tokens: usize,
    passes: AtomicU64,
    texts: AtomicU64,
    /// Callers inside `encode` now.
    callers: AtomicUsize,
}

impl Batcher {
    /// Batches hold at most `max_texts` texts and `max_tokens` tokens.
    pub fn new(max_texts: usize, max_tokens: usize) -> Self {
        Self {
            queue: Mutex::default(),
            done: Condvar::new(),
            max_texts: max_texts.max(1),
            max_tokens,
            passes: AtomicU64::new(0),
            texts: AtomicU64::new(0),
            callers: AtomicUsize::new(0),
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
        let mine = Arc::new(Mutex::new(Request { tokens, result: None }));
        let mut queue = self.queue.lock();
        queue.waiting.push_back(mine.clone());
        loop {
            if let Some(result) = mine.lock().result.take() {
                return result;
            }
            if queue.running {
                self.done.wait(&mut queue);
                continue;
            }
            queue.running = true;
            let batch = self.take_batch(&mut queue.waiting);
            drop(queue);
            self.run(&batch, &forward);
            queue = self.queue.lock();
            queue.running = false;
            self.done.notify_all();
        }
    }

    /// The oldest queued requests that fit one pass (always at least one).
    fn take_batch(&self, waiting: &mut VecDeque<Arc<Mutex<Request>>>) -> Vec<Arc<Mutex<Request>>> {
        let mut batch = Vec::new();
        let mut tokens = 0;
        while let Some(next) = waiting.front() {
            let len = next.lock().tokens.len();
            if !batch.is_empty() && (batch.len() == self.max_texts || tokens + len > self.max_tokens) {
                break;
            }
            tokens += len;
            batch.extend(waiting.pop_front());
        }
        batch
    }

    /// Runs one pass and stores each request's result. A failure or a
    /// panic in the pass becomes an error for every text in it, so no
    /// caller is left waiting and the queue stays usable.
    fn run(&self, batch: &[Arc<Mutex<Request>>], forward: &impl Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>>) {
        let mut requests: Vec<_> = batch.iter().map(|r| r.lock()).collect();
        self.passes.fetch_add(1, Ordering::Relaxed);
        self.texts.fetch_add(requests.len() as u64, Ordering::Relaxed);
        let outcome = {
            let tokens: Vec<&Tokens> = requests.iter().map(|r| &r.tokens).collect();
            catch_unwind(AssertUnwindSafe(|| forward(&tokens)))
        };
        let failure = |message: String| Err(Error::Internal(message));
        match outcome {
            Ok(Ok(vectors)) if vectors.len() == requests.len() => {
                for (request, vector) in requests.iter_mut().zip(vectors) {
                    request.result = Some(Ok(vector));
                }
            }
            Ok(Ok(vectors)) => {
                let message = format!("a batch of {} texts gave {} vectors", requests.len(), vectors.len());
                requests.iter_mut().for_each(|r| r.result = Some(failure(message.clone())));
            }
            Ok(Err(e)) => {
                let message = e.to_string();
                requests.iter_mut().for_each(|r| r.result = Some(failure(message.clone())));
            }
            Err(panic) => {
                let message = format!("panic in a batched forward pass: {}", panic_message(&*panic));
                requests.iter_mut().for_each(|r| r.result = Some(failure(message.clone())));
            }
        }
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
    fn fake(sizes: &Mutex<Vec<usize>>) -> impl Fn(&[&Tokens]) -> Result<Vec<Vec<f32>>> + '_ {
        move |batch| {
            sizes.lock().push(batch.len());
            std::thread::sleep(std::time::Duration::from_millis(2));
            Ok(batch.iter().map(|t| vec![t.ids[0] as f32]).collect())
        }
    }

    #[test]
    fn a_lone_caller_runs_its_own_pass() {
        let batcher = Batcher::new(32, 1000);
        let sizes = Mutex::new(vec![]);
        assert_eq!(batcher.encode(tokens(7, 3), fake(&sizes)).unwrap(), vec![7.0]);
        assert_eq!(*sizes.lock(), vec![1]);
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
            queue.push_back(Arc::new(Mutex::new(Request { tokens: tokens(1, len), result: None })));
        }
        assert_eq!(batcher.take_batch(&mut queue).len(), 2, "4 + 4 fit 10 tokens, a third does not");
        assert_eq!(batcher.take_batch(&mut queue).len(), 1);
        assert_eq!(batcher.take_batch(&mut queue).len(), 1, "a text over the budget goes alone");
        assert!(queue.is_empty());
    }

    #[test]
    fn errors_and_panics_reach_every_caller_of_the_pass_and_the_queue_lives_on() {
        let batcher = Batcher::new(8, 1000);
        let calls = AtomicUsize::new(0);
        let flaky = |batch: &[&Tokens]| -> Result<Vec<Vec<f32>>> {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => panic!("boom"),
                1 => Err(Error::InvalidArgument("bad".into())),
                _ => Ok(batch.iter().map(|_| vec![1.0]).collect()),
            }
        };
        let err = batcher.encode(tokens(1, 2), &flaky).unwrap_err().to_string();
        assert!(err.contains("panic") && err.contains("boom"), "{err}");
        assert!(batcher.encode(tokens(1, 2), &flaky).unwrap_err().to_string().contains("bad"));
        assert_eq!(batcher.encode(tokens(1, 2), &flaky).unwrap(), vec![1.0]);
    }
}
