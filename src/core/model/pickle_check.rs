//! A `pytorch_model.bin` is a zip whose `data.pkl` is a Python pickle.
//! sbert4j never executes it: candle's reader interprets a fixed set of
//! opcodes into plain values (no imports, no calls). But that reader trusts
//! the file: a string's 4-byte length is allocated before it is read, and
//! every memo fetch (`BINGET`) deep-copies the stored value, so a few dozen
//! bytes that fetch, pair and store a value again and again double it each
//! time (a "billion laughs"). This module runs the same opcodes first on
//! value *sizes* only, and refuses the file if the values would ever hold
//! more than a bound derived from the pickle's length, before candle
//! allocates anything.
//!
//! The opcodes, their arguments and stack effects are those of candle's
//! `pickle::Stack::read` (candle-core 0.11); anything else is refused as
//! candle would refuse it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The cost of one value, in bytes-equivalents (an `Object` and its slot),
/// on top of the bytes of its strings.
const VALUE: u64 = 64;
/// Values may weigh this many times the pickle's length, plus `SLACK`: a
/// real checkpoint's values weigh a few times its pickle.
const GROWTH: u64 = 64;
const SLACK: u64 = 1 << 20;

/// One stack slot: the mark (an object of its own in candle), or a value
/// of that weight.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Mark,
    Value(u64),
}

impl Slot {
    fn weight(self) -> u64 {
        match self {
            Slot::Mark => VALUE,
            Slot::Value(w) => w,
        }
    }
}

/// Checks every `*data.pkl` of the zip at `path`; an error says why the
/// file is refused.
pub(crate) fn check(path: &Path) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| format!("not a PyTorch zip: {e}"))?;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.into_owned();
        if !name.ends_with("data.pkl") {
            continue;
        }
        // Entries are stored, not compressed (the zip reader has no
        // decompressor), so the pickle is no longer than the file.
        let mut pickle = Vec::new();
        entry.by_ref().take(file_len).read_to_end(&mut pickle).map_err(|e| format!("{name}: {e}"))?;
        simulate(&pickle).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// Runs the pickle on value weights; fails on anything candle would fail
/// on first, or when the values would outgrow the bound.
fn simulate(pickle: &[u8]) -> Result<(), String> {
    let budget = GROWTH.saturating_mul(pickle.len() as u64).saturating_add(SLACK);
    let mut r = Reader { bytes: pickle, at: 0 };
    let mut stack: Vec<Slot> = Vec::new();
    let mut memo: HashMap<u32, Slot> = HashMap::new();
    // The weight of everything on the stack and in the memo.
    let mut live: u64 = 0;
    let too_big = |live: u64| -> Result<(), String> {
        if live > budget {
            Err(format!("the pickle's values would need over {budget} bytes (a pickle of {} bytes); refused", pickle.len()))
        } else {
            Ok(())
        }
    };
    fn pop(stack: &mut Vec<Slot>, live: &mut u64) -> Result<Slot, String> {
        let slot = stack.pop().ok_or("unexpected empty stack")?;
        *live -= slot.weight();
        Ok(slot)
    }
    fn pop_to_mark(stack: &mut Vec<Slot>, live: &mut u64) -> Result<u64, String> {
        let mark = stack.iter().rposition(|s| *s == Slot::Mark).ok_or("marker object not found")?;
        let items: u64 = stack.drain(mark..).map(Slot::weight).sum();
        *live -= items;
        // The mark itself is dropped.
        Ok(items - VALUE)
    }
    loop {
        let op = r.u8()?;
        let pushed = match op {
            0x80 => {
                r.skip(1)?;
                None
            }
            b'c' => {
                let module = r.line()?;
                let class = r.line()?;
                Some(VALUE + module + class)
            }
            b'K' => r.skip(1).map(|_| Some(VALUE))?,
            b'M' => r.skip(2).map(|_| Some(VALUE))?,
            b'J' => r.skip(4).map(|_| Some(VALUE))?,
            b'G' => r.skip(8).map(|_| Some(VALUE))?,
            b'X' => {
                let len = u64::from(r.u32()?);
                if len > r.left() {
                    return Err(format!("a string of {len} bytes in a pickle with {} bytes left", r.left()));
                }
                r.skip(len as usize)?;
                Some(VALUE + len)
            }
            b'Q' => Some(pop(&mut stack, &mut live)?.weight() + VALUE),
            b't' => Some(pop_to_mark(&mut stack, &mut live)? + VALUE),
            0x85 | 0x86 | 0x87 => {
                let mut weight = VALUE;
                for _ in 0..(op - 0x84) {
                    weight += pop(&mut stack, &mut live)?.weight();
                }
                Some(weight)
            }
            // (candle reads DICT, 'd', as EMPTY_DICT.)
            0x88 | 0x89 | b'N' | b'}' | b'd' | b')' | b']' => Some(VALUE),
            b'(' => {
                stack.push(Slot::Mark);
                live += VALUE;
                None
            }
            // Append, SetItem: into the container below.
            b'a' | b's' => {
                let mut added = pop(&mut stack, &mut live)?.weight();
                if op == b's' {
                    added += pop(&mut stack, &mut live)?.weight();
                }
                grow_last(&mut stack, &mut live, added)?;
                None
            }
            b'e' | b'u' => {
                let added = pop_to_mark(&mut stack, &mut live)?;
                grow_last(&mut stack, &mut live, added)?;
                None
            }
            // Build, Reduce, NewObj: two values into one.
            b'b' | b'R' | 0x81 => {
                let args = pop(&mut stack, &mut live)?.weight();
                let callable = pop(&mut stack, &mut live)?.weight();
                Some(args + callable + VALUE)
            }
            b'h' | b'j' => {
                let id = if op == b'h' { u32::from(r.u8()?) } else { r.u32()? };
                let slot = *memo.get(&id).ok_or_else(|| format!("missing object in memo {id}"))?;
                stack.push(slot);
                live += slot.weight();
                None
            }
            b'q' | b'r' => {
                let id = if op == b'q' { u32::from(r.u8()?) } else { r.u32()? };
                let top = *stack.last().ok_or("unexpected empty stack")?;
                if let Some(old) = memo.insert(id, top) {
                    live -= old.weight();
                }
                live += top.weight();
                None
            }
            0x8a => {
                let n = r.u8()?;
                r.skip(usize::from(n))?;
                Some(VALUE)
            }
            b'.' => return Ok(()),
            other => return Err(format!("unknown op-code {other}")),
        };
        if let Some(weight) = pushed {
            stack.push(Slot::Value(weight));
            live += weight;
        }
        too_big(live)?;
    }
}

/// Adds `weight` to the value on top of the stack (a list or dict growing).
fn grow_last(stack: &mut [Slot], live: &mut u64, weight: u64) -> Result<(), String> {
    match stack.last_mut() {
        Some(Slot::Value(w)) => {
            *w += weight;
            *live += weight;
            Ok(())
        }
        // candle refuses to append to anything but a list or dict.
        Some(Slot::Mark) => Err("expected a list or dict, got a mark".into()),
        None => Err("unexpected empty stack".into()),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn left(&self) -> u64 {
        (self.bytes.len() - self.at) as u64
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        if n > self.bytes.len() - self.at {
            return Err("the pickle ends early".into());
        }
        self.at += n;
        Ok(())
    }

    fn u8(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("the pickle ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let start = self.at;
        self.skip(4)?;
        Ok(u32::from_le_bytes(self.bytes[start..start + 4].try_into().expect("4 bytes")))
    }

    /// Skips a line; its length.
    fn line(&mut self) -> Result<u64, String> {
        let rest = &self.bytes[self.at..];
        let end = rest.iter().position(|&b| b == b'\n').ok_or("the pickle ends early")?;
        self.at += end + 1;
        Ok(end as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doubling_memo_chain_is_refused_and_plain_values_pass() {
        // EMPTY_LIST, BINPUT 0, then 40 × (BINGET 0, BINGET 0, TUPLE2, BINPUT 0, POP-free), STOP:
        // each round doubles the memoised value.
        let mut bomb = vec![b']', b'q', 0];
        for _ in 0..40 {
            bomb.extend_from_slice(&[b'h', 0, b'h', 0, 0x86, b'q', 0]);
        }
        bomb.push(b'.');
        let err = simulate(&bomb).unwrap_err();
        assert!(err.contains("refused"), "{err}");

        // A string longer than the pickle.
        let err = simulate(&[b'X', 0xff, 0xff, 0xff, 0x7f, b'a', b'.']).unwrap_err();
        assert!(err.contains("bytes left"), "{err}");

        // A small dict of strings, with marks and memo: fine.
        let ok = [b'}', b'q', 0, b'(', b'X', 1, 0, 0, 0, b'k', b'X', 1, 0, 0, 0, b'v', b'u', b'h', 0, b'.'];
        simulate(&ok).unwrap();
        assert!(simulate(&[b'N', b'Z']).unwrap_err().contains("unknown op-code"));
        assert!(simulate(&[b'N']).unwrap_err().contains("ends early"));
    }
}
