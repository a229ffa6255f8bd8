//! The packed CPU engine: the transformer forward pass on plain f32
//! buffers, with the texts of a batch packed end to end instead of padded
//! (attention runs per text, so no work is spent on padding and no mask is
//! needed). Linear layers are packed once for the CPU path's micro-kernel
//! (`packed_linear.rs`); bias, residual and activation are applied as their
//! outputs are stored; attention and the element-wise work use the
//! vectorised kernels in `kernels.rs`. Every parallel step runs on the
//! team's threads (`team.rs`). Same weights, same results (within 1e-5) as
//! the candle reference in `model/reference.rs`.

mod bf16;
pub(crate) mod config;
mod kernels;
mod linear_avx2;
mod linear_avx512;
mod linear_bf16_avx2;
mod linear_bf16_portable;
mod linear_int8_avx2;
mod linear_int8_portable;
mod linear_portable;
mod packed_linear;
mod quantize;
mod team;

use super::precision::Precision;
use super::model::{relative_position, Activation, Dense, LayerWeights, Norm, TransformerWeights};
use super::tokenize::Tokens;
use config::CpuPath;
use packed_linear::{Activation as ElementWise, PackedLinear};
use team::{team, Pass};

pub(crate) use team::{fail_thread_spawns_for_testing, shutdown};

/// The team, or why its threads could not be started (the next call tries
/// again).
fn started_team() -> Result<&'static team::Team, crate::core::Error> {
    team().map_err(|e| {
        crate::core::Error::Platform(format!("could not start sbert4j's compute threads: {e} (the next call tries again)"))
    })
}

/// Element-wise work is split into chunks of about this many floats.
const PAR_CHUNK: usize = 1 << 14;

fn to_vec(t: &candle_core::Tensor) -> candle_core::Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

struct PNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl PNorm {
    fn new(n: &Norm) -> candle_core::Result<Self> {
        Ok(Self { gamma: to_vec(&n.gamma)?, beta: to_vec(&n.beta)?, eps: n.eps as f32 })
    }

    fn apply(&self, xs: &mut [f32], pass: &Pass) {
        let h = self.gamma.len();
        let rows = xs.len() / h;
        let threads = if xs.len() >= PAR_CHUNK { pass.threads() } else { 1 };
        if threads == 1 {
            return kernels::layer_norm_rows(xs, &self.gamma, &self.beta, self.eps);
        }
        let out = SharedMut(xs.as_mut_ptr());
        pass.run(&|t| {
            let (first, end) = (t * rows / threads, (t + 1) * rows / threads);
            // SAFETY: thread t alone touches rows first..end of xs, which
            // outlives the step.
            let mine = unsafe { std::slice::from_raw_parts_mut(out.get().add(first * h), (end - first) * h) };
            kernels::layer_norm_rows(mine, &self.gamma, &self.beta, self.eps);
        });
    }
}

/// A linear layer, packed for the process's CPU path in the model's precision.
struct PDense(PackedLinear);

impl PDense {
    fn new(d: &Dense, path: CpuPath, precision: Precision) -> candle_core::Result<Self> {
        let (outputs, inputs) = d.weight.dims2()?;
        Ok(Self(PackedLinear::new(path, precision, &to_vec(&d.weight)?, &to_vec(&d.bias)?, outputs, inputs)))
    }

    /// `act(x (rows × in) · weightᵀ + bias + base)` (rows × out), where
    /// `base` is the residual input, if any.
    fn forward(&self, x: &[f32], base: Option<&[f32]>, act: Option<ElementWise>, pass: &Pass) -> Vec<f32> {
        self.0.forward(x, base, act, pass)
    }
}

struct PLayer {
    qkv: PDense,
    attn_out: PDense,
    attn_norm: PNorm,
    ffn_in: PDense,
    ffn_out: PDense,
    out_norm: PNorm,
}

impl PLayer {
    fn new(l: &LayerWeights, path: CpuPath, precision: Precision) -> candle_core::Result<Self> {
        Ok(Self {
            qkv: PDense::new(&l.qkv, path, precision)?,
            attn_out: PDense::new(&l.attn_out, path, precision)?,
            attn_norm: PNorm::new(&l.attn_norm)?,
            ffn_in: PDense::new(&l.ffn_in, path, precision)?,
            ffn_out: PDense::new(&l.ffn_out, path, precision)?,
            out_norm: PNorm::new(&l.out_norm)?,
        })
    }
}

/// `f` over `items`, in order, on the team's threads (at most `threads`),
/// as one pass: nothing else runs on them meanwhile.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: Option<usize>,
    f: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, crate::core::Error> {
    if items.len() < 2 {
        return Ok(items.iter().map(f).collect());
    }
    Ok(started_team()?.pass(threads, |pass| {
        let threads = pass.threads().min(items.len());
        let parts: Vec<std::sync::Mutex<Vec<R>>> = (0..threads).map(|_| Default::default()).collect();
        pass.run(&|t| {
            if t < threads {
                let (first, end) = (t * items.len() / threads, (t + 1) * items.len() / threads);
                let mine: Vec<R> = items[first..end].iter().map(&f).collect();
                *parts[t].lock().unwrap_or_else(|p| p.into_inner()) = mine;
            }
        });
        parts.into_iter().flat_map(|part| part.into_inner().unwrap_or_else(|p| p.into_inner())).collect()
    }))
}

/// A raw pointer that may cross into parallel steps writing disjoint regions.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
// SAFETY: every thread writes a region no other touches (see its users).
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// (A method, so closures capture the whole wrapper, not the bare pointer.)
    fn get(self) -> *mut f32 {
        self.0
    }
}

pub(crate) struct PackedModel {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Option<Vec<f32>>,
    emb_norm: PNorm,
    layers: Vec<PLayer>,
    /// MPNet's relative position bias table, buckets × heads.
    relative_bias: Option<Vec<f32>>,
    hidden: usize,
    heads: usize,
    position_offset: usize,
    act: Activation,
}

impl PackedModel {
    /// Takes the weights over (the candle tensors are dropped, so the
    /// weights are held once), packed for the process's CPU path (fixed
    /// now if nothing fixed it yet; see `config`), the linear layers in
    /// `precision` (see `core::precision`).
    pub fn new(w: TransformerWeights, precision: Precision) -> Result<Self, crate::core::Error> {
        let path = config::current().map_err(crate::core::Error::Platform)?.path;
        Ok(Self::pack(w, path, precision)?)
    }

    fn pack(w: TransformerWeights, path: CpuPath, precision: Precision) -> candle_core::Result<Self> {
        Ok(Self {
            word: to_vec(&w.word)?,
            position: to_vec(&w.position)?,
            token_type: w.token_type.as_ref().map(to_vec).transpose()?,
            emb_norm: PNorm::new(&w.emb_norm)?,
            layers: w.layers.iter().map(|l| PLayer::new(l, path, precision)).collect::<candle_core::Result<_>>()?,
            relative_bias: w.relative_bias.as_ref().map(to_vec).transpose()?,
            hidden: w.hidden_size(),
            heads: w.heads,
            position_offset: w.position_offset,
            act: w.act,
        })
    }

    /// The hidden states of every token of every text, texts one after
    /// another: (Σ lengths) × hidden, row-major, on at most `threads`
    /// threads (default: the thread budget). With `others_waiting` (a
    /// micro-batch of several callers' texts) the pass runs on the team's
    /// leader thread; otherwise the calling thread works through it with
    /// the team's helpers (see `team`).
    pub fn forward(&self, texts: &[&Tokens], others_waiting: bool, threads: Option<usize>) -> Result<Vec<f32>, crate::core::Error> {
        let team = started_team()?;
        Ok(if others_waiting {
            team.pass_on_leader(threads, |pass| self.forward_with(texts, pass))
        } else {
            team.pass(threads, |pass| self.forward_with(texts, pass))
        })
    }

    fn forward_with(&self, texts: &[&Tokens], pass: &Pass) -> Vec<f32> {
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let total: usize = lens.iter().sum();
        let mut x = self.embed(texts, total, pass);
        let relative = self.relative_bias_by_offset(lens.iter().copied().max().unwrap_or(0));
        for layer in &self.layers {
            x = self.layer(layer, &x, &lens, total, relative.as_deref(), pass);
        }
        x
    }

    fn embed(&self, texts: &[&Tokens], total: usize, pass: &Pass) -> Vec<f32> {
        let h = self.hidden;
        let mut x = vec![0f32; total * h];
        let rows = texts.iter().flat_map(|t| t.ids.iter().zip(&t.type_ids).enumerate());
        for (row, (pos, (&id, &ty))) in x.chunks_exact_mut(h).zip(rows) {
            let word = &self.word[id as usize * h..][..h];
            let position = &self.position[(self.position_offset + pos) * h..][..h];
            match &self.token_type {
                // Hugging Face's order: (word + token type) + position.
                Some(tt) => {
                    let tt = &tt[ty as usize * h..][..h];
                    for i in 0..h {
                        row[i] = (word[i] + tt[i]) + position[i];
                    }
                }
                None => {
                    for i in 0..h {
                        row[i] = word[i] + position[i];
                    }
                }
            }
        }
        self.emb_norm.apply(&mut x, pass);
        x
    }

    /// MPNet: per head, the bias of every key − query offset from
    /// −(longest − 1) to longest − 1 (offset 0 at `longest − 1`), computed
    /// once per pass and shared by the layers; `None` without a table.
    fn relative_bias_by_offset(&self, longest: usize) -> Option<Vec<f32>> {
        let table = self.relative_bias.as_ref()?;
        let width = (2 * longest).saturating_sub(1);
        let mut out = vec![0f32; self.heads * width];
        for (k, column) in (0..width).map(|k| (k, relative_position::bucket(k as i64 - longest as i64 + 1))) {
            for head in 0..self.heads {
                out[head * width + k] = table[column * self.heads + head];
            }
        }
        Some(out)
    }

    fn layer(&self, l: &PLayer, x: &[f32], lens: &[usize], total: usize, relative: Option<&[f32]>, pass: &Pass) -> Vec<f32> {
        let qkv = l.qkv.forward(x, None, None, pass);
        let context = self.attention(&qkv, lens, total, relative, pass);
        let mut attended = l.attn_out.forward(&context, Some(x), None, pass);
        l.attn_norm.apply(&mut attended, pass);
        let act: ElementWise = match self.act {
            Activation::GeluErf => kernels::gelu_erf,
            Activation::Relu => kernels::relu,
            Activation::GeluTanh => gelu_tanh,
        };
        let inner = l.ffn_in.forward(&attended, None, Some(act), pass);
        let mut out = l.ffn_out.forward(&inner, Some(&attended), None, pass);
        l.out_norm.apply(&mut out, pass);
        out
    }

    /// Self-attention of each text on its own tokens, one task per (text,
    /// head), dealt out to the threads in turn: softmax(q·kᵀ/√d + MPNet's
    /// relative bias, if any)·v written into the text's rows and the head's
    /// columns of the context. `relative`: see `relative_bias_by_offset`.
    fn attention(&self, qkv: &[f32], lens: &[usize], total: usize, relative: Option<&[f32]>, pass: &Pass) -> Vec<f32> {
        let (h, heads) = (self.hidden, self.heads);
        let d = h / heads;
        let mut context = vec![0f32; total * h];
        let out = SharedMut(context.as_mut_ptr());
        let starts: Vec<usize> = lens.iter().scan(0, |acc, &l| Some(std::mem::replace(acc, *acc + l))).collect();
        let tasks: Vec<(usize, usize)> = (0..lens.len()).flat_map(|t| (0..heads).map(move |hd| (t, hd))).collect();
        let threads = pass.threads();
        let longest = lens.iter().copied().max().unwrap_or(0);
        let scale = 1.0 / (d as f32).sqrt();
        let work = |t: usize| {
            // Scratch sized for the longest text, reused by this thread's tasks.
            let stride = longest.next_multiple_of(16);
            let (mut scores, mut kt, mut head_out) = (vec![0f32; longest * stride], vec![0f32; d * stride], vec![0f32; longest * d]);
            for &(text, head) in tasks.iter().skip(t).step_by(threads) {
                let (start, len) = (starts[text], lens[text]);
                let block = &qkv[start * 3 * h..(start + len) * 3 * h];
                // Rows padded to whole vectors, for the softmax's loops.
                let stride = len.next_multiple_of(16);
                // This head's offsets −(len − 1)..=len − 1.
                let width = (2 * longest).saturating_sub(1);
                let relative = relative.map(|r| &r[head * width + longest - len..][..(2 * len).saturating_sub(1)]);
                kernels::attend_head(block, len, h, head * d, d, scale, relative, &mut scores[..len * stride], stride, &mut kt[..d * stride], &mut head_out[..len * d]);
                for (i, row) in head_out[..len * d].chunks_exact(d).enumerate() {
                    // SAFETY: rows start..start+len, columns head·d..(head+1)·d
                    // of the context are written by this task alone, and
                    // `context` outlives the parallel step.
                    unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), out.get().add((start + i) * h + head * d), d) };
                }
            }
        };
        if threads == 1 {
            work(0);
        } else {
            pass.run(&|t| work(t));
        }
        context
    }
}

/// The tanh approximation (`gelu_new`), for models that ask for it.
fn gelu_tanh(xs: &mut [f32]) {
    const C: f32 = 0.797_884_6; // √(2/π)
    for x in xs {
        let v = *x;
        *x = 0.5 * v * (1.0 + (C * (v + 0.044_715 * v * v * v)).tanh());
    }
}
