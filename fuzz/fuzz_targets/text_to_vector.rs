//! Fuzzes the core's text → vector path: arbitrary bytes (as lossy UTF-8,
//! the way the JNI layer decodes) through tokenization, truncation, the
//! transformer, pooling and normalization, on two small fixture models
//! (XLM-R Unigram tokenizer and BERT WordPiece). Every input must give a
//! finite vector of the model's dimension, and a batch must give the same
//! vectors as its texts one by one. Run: see docs/reliability.md.
#![no_main]

use libfuzzer_sys::fuzz_target;
use once_cell::sync::Lazy;
use sbert4j::{Encoder, EncoderOptions};

fn open(name: &str, max_seq_length: Option<usize>) -> Encoder {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/models/");
    let options = EncoderOptions { max_seq_length, batch_size: 3, ..Default::default() };
    Encoder::open(format!("{dir}{name}"), options).expect("fixture model")
}

static ENCODERS: Lazy<[Encoder; 3]> = Lazy::new(|| {
    [open("seed-standin", None), open("bert-mean-sqrt-len", None), open("distilbert-max", Some(5))]
});

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let encoder = &ENCODERS[pick as usize % 3];
    // 0xFF never occurs in UTF-8: use it to split the input into a batch.
    let texts: Vec<String> = rest.split(|&b| b == 0xFF).map(|t| String::from_utf8_lossy(t).into_owned()).collect();
    let batch = encoder.encode_batch(&texts).expect("encode_batch");
    assert_eq!(batch.len(), texts.len());
    for (text, vector) in texts.iter().zip(&batch) {
        assert_eq!(vector.len(), encoder.dimension());
        assert!(vector.iter().all(|x| x.is_finite()), "non-finite component for {text:?}");
        let single = encoder.encode(text).expect("encode");
        let diff = single.iter().zip(vector).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff <= 1e-5, "batch and single differ by {diff} for {text:?}");
    }
});
