//! The core's share of reliability: enormous and adversarial texts, and
//! broken model directories that must fail with a message naming the file.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use sbert4j::{Encoder, EncoderOptions, Error};

fn long_case() -> (String, Vec<f32>) {
    let fixture = fixture("all-MiniLM-L6-v2.reference.json");
    let case = &fixture.cases[0];
    let i = case.texts.iter().position(|t| t.len() > 1000 && t.contains(' ')).expect("the long text");
    (case.texts[i].clone(), case.vectors[i].clone())
}

/// A text far beyond max_seq_length gives the vector of its first 256
/// tokens however much follows, fast: the core cuts characters before
/// tokenizing, but never so short that the kept tokens change.
#[test]
fn ten_megabytes_of_text_give_the_vector_of_their_first_tokens() {
    let encoder = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    let (long, want) = long_case();
    let tails = [
        "and then the meeting went on for many more hours ".repeat(200_000),
        "x".repeat(10_000_000),
        "今天天气很好".repeat(600_000),
    ];
    for tail in &tails {
        let text = format!("{long} {tail}");
        let started = Instant::now();
        let got = encoder.encode(&text).unwrap();
        let took = started.elapsed();
        assert_close(&got, &want, 1e-5, "long text + 10 MB");
        eprintln!("{} MB text encoded in {took:?}", text.len() >> 20);
        assert!(took < Duration::from_secs(3), "a 10 MB text took {took:?}");
    }
}

/// Characters the tokenizer drops (control characters) must not fool the
/// cut: 10 MB of them before the words still give the words' vector.
#[test]
fn text_hidden_after_megabytes_of_ignored_characters_is_still_seen() {
    let encoder = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    let (long, want) = long_case();
    let text = format!("{}{long}", "\u{1}".repeat(10_000_000));
    assert_close(&encoder.encode(&text).unwrap(), &want, 1e-5, "control characters + long text");
}

/// Copies the default model into `into`, linking the weights unless the
/// caller is going to replace them.
fn copy_model(into: &Path, link_weights: bool) -> PathBuf {
    let base = default_model();
    std::fs::create_dir_all(into.join("1_Pooling")).unwrap();
    for rel in ["config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"] {
        std::fs::copy(base.join(rel), into.join(rel)).unwrap();
    }
    if link_weights {
        std::os::unix::fs::symlink(base.join("model.safetensors"), into.join("model.safetensors")).unwrap();
    }
    into.to_path_buf()
}

fn open_err(dir: &Path) -> Error {
    match Encoder::open(dir, EncoderOptions::default()) {
        Ok(_) => panic!("{} opened although it is broken", dir.display()),
        Err(e) => e,
    }
}

fn assert_names(err: &Error, file: &str, problem: &str) {
    let msg = err.to_string();
    assert!(msg.contains(file) && msg.contains(problem), "message {msg:?} should name {file:?} and {problem:?}");
}

#[test]
fn broken_model_directories_fail_with_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let case = |name: &str, link_weights: bool| copy_model(&tmp.path().join(name), link_weights);

    assert_names(&open_err(&tmp.path().join("absent")), "absent", "does not exist");

    let dir = case("no-weights", false);
    assert_names(&open_err(&dir), "no-weights", "no weights found");

    let dir = case("truncated", false);
    let bytes = std::fs::read(default_model().join("model.safetensors")).unwrap();
    std::fs::write(dir.join("model.safetensors"), &bytes[..1 << 20]).unwrap();
    assert_names(&open_err(&dir), "model.safetensors", "cannot read weights");

    let dir = case("wrong-shape", true);
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(dir.join("config.json"), config.replace("\"intermediate_size\": 1536", "\"intermediate_size\": 1024")).unwrap();
    assert_names(&open_err(&dir), "model.safetensors", "intermediate.dense.weight' has shape [1536, 384]");

    let dir = case("wrong-dtype", false);
    write_with_int_tensor(&default_model().join("model.safetensors"), &dir.join("model.safetensors"));
    assert_names(&open_err(&dir), "model.safetensors", "dtype I64, expected a floating-point dtype");

    for (i, file, content, problem) in [
        ("config.json", "{ not json", "invalid JSON"),
        ("config.json", r#"{"model_type": "gpt2", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 8}"#, "unsupported architecture 'gpt2'"),
        ("tokenizer.json", "{\"version\": \"1.0\"}", "invalid tokenizer"),
        ("1_Pooling/config.json", "[1, 2]", "invalid JSON"),
        ("1_Pooling/config.json", r#"{"pooling_mode": "median"}"#, "unsupported pooling mode 'median'"),
        ("modules.json", r#"[{"path": "", "type": "sentence_transformers.models.Transformer"},
            {"path": "1_LSTM", "type": "sentence_transformers.models.LSTM"}]"#, "unsupported module 'LSTM'"),
        ("modules.json", r#"[{"path": "", "type": "sentence_transformers.models.Transformer"},
            {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}]"#, "Dense is listed before Pooling"),
        ("sentence_bert_config.json", r#"{"max_seq_length": 0}"#, "max_seq_length must be a positive integer, got 0"),
        ("sentence_bert_config.json", r#"{"transformer_task": "sequence-classification"}"#,
            "unsupported transformer_task 'sequence-classification'"),
        ("sentence_bert_config.json", r#"{"modality_config": {"message": {"method": "forward", "method_output_name": "x"}}}"#,
            "unsupported modality 'message'"),
        ("sentence_bert_config.json", r#"{"processing_kwargs": {"text": {"max_length": 16}}}"#,
            "unsupported processing_kwargs option 'text.max_length'"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (f, c, p))| (i, *f, *c, *p))
    {
        let dir = case(&format!("bad-{i}"), true);
        std::fs::write(dir.join(file), content).unwrap();
        assert_names(&open_err(&dir), file, problem);
        if problem.contains("architecture") {
            assert_names(&open_err(&dir), file, "supported: BertModel");
        }
    }

    // Nothing of the failures stays loaded, and a good model still opens.
    let encoder = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    assert_eq!(encoder.encode("still works").unwrap().len(), 384);
}

/// Rewrites `src` with one weight stored as int64.
fn write_with_int_tensor(src: &Path, dest: &Path) {
    use candle_core::{safetensors, DType, Device};
    let mut tensors = safetensors::load(src, &Device::Cpu).unwrap();
    let name = "encoder.layer.0.attention.self.query.weight";
    let int = tensors[name].to_dtype(DType::I64).unwrap();
    tensors.insert(name.to_string(), int);
    safetensors::save(&tensors, dest).unwrap();
}

#[test]
fn invalid_options_are_invalid_arguments() {
    let open = |options| Encoder::open(default_model(), options).err().map(|e| e.to_string());
    let msg = open(EncoderOptions { max_seq_length: Some(513), ..Default::default() }).unwrap();
    assert!(msg.contains("513") && msg.contains("2..=512"), "{msg}");
    let msg = open(EncoderOptions { batch_size: 0, ..Default::default() }).unwrap();
    assert!(msg.contains("batch size"), "{msg}");
}

/// A copy of a fixture model whose tokenizer adds no special tokens, so the
/// empty text has no tokens at all: the one text that cannot be encoded.
fn without_special_tokens(into: &Path) -> PathBuf {
    let base = root().join("tests/fixtures/models/bert-mean-sqrt-len-st6");
    let mut files = serde_json::Map::new();
    let mut tokenizer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("tokenizer.json")).unwrap()).unwrap();
    tokenizer["post_processor"] = serde_json::Value::Null;
    files.insert("tokenizer.json".into(), tokenizer);
    let pooling = serde_json::json!({"embedding_dimension": 24, "pooling_mode": "cls", "include_prompt": true});
    files.insert("1_Pooling/config.json".into(), pooling);
    let case = Case { name: String::new(), files, options: Default::default(), texts: vec![], vectors: vec![],
                      tokens: vec![], token_counts: vec![], truncated: vec![] };
    materialize(&base, &case, into)
}

#[test]
fn a_text_that_cannot_be_encoded_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = without_special_tokens(tmp.path());
    let encoder = Encoder::open(&dir, EncoderOptions::default()).unwrap();
    let reference = Encoder::open(&dir, EncoderOptions { micro_batching: false, ..Default::default() }).unwrap();
    let err = encoder.encode("").unwrap_err().to_string();
    assert!(err.contains("no tokens"), "{err}");

    // 16 threads at once, one of them with the bad text now and then:
    // only its calls fail, with the real message; the rest get their vectors.
    let start = std::sync::Barrier::new(16);
    std::thread::scope(|s| {
        for t in 0..16 {
            let (encoder, reference, start) = (&encoder, &reference, &start);
            s.spawn(move || {
                start.wait();
                for round in 0..12 {
                    let text = if t == 5 && round % 3 == 0 { String::new() } else { format!("text {t} {round}") };
                    match encoder.encode(&text) {
                        Ok(v) => assert_eq!(v, reference.encode(&text).unwrap(), "{text:?}"),
                        Err(e) => assert!(text.is_empty() && e.to_string().contains("no tokens"), "{text:?}: {e}"),
                    }
                }
            });
        }
    });

    // A batch is all or nothing, and names the text.
    let err = encoder.encode_batch(&["good", "also good", "", "fine"]).unwrap_err();
    assert!(err.to_string().starts_with("text at index 2: ") && err.to_string().contains("no tokens"), "{err}");
    assert_eq!(encoder.encode_batch(&["good"]).unwrap()[0], reference.encode("good").unwrap());
}

/// A copy of a fixture whose tokenizer knows a token the model has no
/// embedding row for (an added word with an id past `vocab_size`) and,
/// with `typed`, gives every token a type past `type_vocab_size`.
fn tokenizer_beyond_the_model(into: &Path, typed: bool) -> PathBuf {
    let base = root().join("tests/fixtures/models/bert-mean-sqrt-len-st6");
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(base.join("config.json")).unwrap()).unwrap();
    let vocab = config["vocab_size"].as_u64().unwrap();
    let mut tokenizer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("tokenizer.json")).unwrap()).unwrap();
    tokenizer["added_tokens"].as_array_mut().unwrap().push(serde_json::json!({
        "id": vocab + 7, "content": "zzbeyond", "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": true, "special": false
    }));
    if typed {
        for piece in tokenizer["post_processor"]["single"].as_array_mut().unwrap() {
            for (_, v) in piece.as_object_mut().unwrap() {
                v["type_id"] = serde_json::json!(5);
            }
        }
    }
    let mut files = serde_json::Map::new();
    files.insert("tokenizer.json".into(), tokenizer);
    let case = Case { name: String::new(), files, options: Default::default(), texts: vec![], vectors: vec![],
                      tokens: vec![], token_counts: vec![], truncated: vec![] };
    std::fs::create_dir_all(into).unwrap();
    materialize(&base, &case, into)
}

#[test]
fn a_token_the_model_has_no_row_for_fails_its_text_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tokenizer_beyond_the_model(&tmp.path().join("ids"), false);
    let typed = tokenizer_beyond_the_model(&tmp.path().join("types"), true);
    for engine in [sbert4j::Engine::Fast, sbert4j::Engine::Reference] {
        let encoder = Encoder::open(&dir, EncoderOptions { engine, ..Default::default() }).unwrap();
        let err = encoder.encode("a zzbeyond b").unwrap_err().to_string();
        assert!(err.contains("tokenizer.json") && err.contains("vocab_size") && err.contains("token id"), "{engine:?}: {err}");
        // The other texts, alone or in a batch, are untouched.
        let good = encoder.encode("a b").unwrap();
        let err = encoder.encode_batch(&["a b", "a zzbeyond b"]).unwrap_err().to_string();
        assert!(err.starts_with("text at index 1: ") && err.contains("vocab_size"), "{engine:?}: {err}");
        assert_eq!(encoder.encode_batch(&["a b"]).unwrap()[0], good);
        let encoder = Encoder::open(&typed, EncoderOptions { engine, ..Default::default() }).unwrap();
        let err = encoder.encode("a b").unwrap_err().to_string();
        assert!(err.contains("token type 5") && err.contains("type_vocab_size"), "{engine:?}: {err}");
    }
}

/// The fast engine reads its word embeddings from `model.safetensors` as
/// texts use them (`model/embedding_table.rs`): the file cut short under
/// an open encoder fails that call with a message naming the file, never
/// the process, and the same encoder gives the same vectors again once the
/// file is whole.
#[test]
fn a_weights_file_cut_short_under_an_open_encoder_fails_the_call_not_the_process() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_model(tmp.path(), false);
    let weights = dir.join("model.safetensors");
    let bytes = std::fs::read(default_model().join("model.safetensors")).unwrap();
    std::fs::write(&weights, &bytes).unwrap();
    let encoder = Encoder::open(&dir, EncoderOptions { engine: sbert4j::Engine::Fast, ..Default::default() }).unwrap();
    let text = "the rows are read as they are used";
    let before = encoder.encode(text).unwrap();
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap());
    std::fs::OpenOptions::new().write(true).open(&weights).unwrap().set_len(header_end).unwrap();
    for err in [encoder.encode(text).unwrap_err(), encoder.encode_batch(&["a", text]).unwrap_err()] {
        assert_names(&err, "model.safetensors", "word_embeddings");
    }
    std::fs::write(&weights, &bytes).unwrap();
    assert_eq!(encoder.encode(text).unwrap(), before);
}

#[test]
fn every_pooling_mode_of_every_fixture_takes_the_shortest_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let models = std::fs::read_dir(root().join("tests/fixtures/models")).unwrap();
    let mut checked = 0;
    // The sentence embedders among the fixtures: a Pooling module in
    // modules.json (not the rerankers, SPLADE or static models).
    let embedders = models.map(|e| e.unwrap().path()).filter(|model| {
        std::fs::read_to_string(model.join("modules.json")).is_ok_and(|modules| modules.contains(".Pooling\""))
    });
    for model in embedders {
        for mode in ["cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"] {
            let mut files = serde_json::Map::new();
            files.insert("1_Pooling/config.json".into(), serde_json::json!({"pooling_mode": mode}));
            let case = Case { name: String::new(), files, options: Default::default(), texts: vec![], vectors: vec![],
                              tokens: vec![], token_counts: vec![], truncated: vec![] };
            let name = model.file_name().unwrap().to_string_lossy().to_string();
            let into = tmp.path().join(format!("{name}-{mode}"));
            std::fs::create_dir_all(&into).unwrap();
            let dir = materialize(&model, &case, &into);
            let encoder = Encoder::open(&dir, EncoderOptions::default()).unwrap();
            for text in ["", " ", "a", "\u{0}"] {
                let v = encoder.encode(text).unwrap_or_else(|e| panic!("{name}, {mode}, {text:?}: {e}"));
                assert!(v.iter().all(|x| x.is_finite()), "{name}, {mode}, {text:?}: {v:?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 13 * 6, "only {checked} model and mode pairs");
}

/// A load that takes long (here: `modules.json` is a named pipe nobody has
/// written yet) blocks neither opening another model nor
/// `loaded_model_count`; a second open of the same directory waits for
/// that one load and shares it.
#[test]
fn a_slow_load_blocks_no_other_model() {
    let tmp = tempfile::tempdir().unwrap();
    let slow = tmp.path().join("slow");
    std::fs::create_dir(&slow).unwrap();
    let base = root().join("tests/fixtures/models/distilbert-max");
    for entry in std::fs::read_dir(&base).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "modules.json" {
            std::os::unix::fs::symlink(&path, slow.join(path.file_name().unwrap())).unwrap();
        }
    }
    let fifo = slow.join("modules.json");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo failed");

    std::thread::scope(|s| {
        let first = s.spawn(|| Encoder::open(&slow, EncoderOptions::default()));
        let second = s.spawn(|| Encoder::open(&slow, EncoderOptions::default()));
        std::thread::sleep(Duration::from_millis(300)); // both are inside the slow load (or waiting for it)
        let other = s.spawn(|| {
            let encoder = Encoder::open(root().join("tests/fixtures/models/bert-mean-sqrt-len"), EncoderOptions::default());
            (encoder.is_ok(), sbert4j::core::loaded_model_count())
        });
        let started = Instant::now();
        while !other.is_finished() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let blocked = !other.is_finished();
        let slow_done_early = first.is_finished() || second.is_finished();
        // Let the slow load finish (also when the check failed, so nothing hangs).
        std::fs::write(&fifo, std::fs::read(base.join("modules.json")).unwrap()).unwrap();
        assert!(!blocked, "opening another model waited for the slow load");
        assert!(!slow_done_early, "the slow load finished before its modules.json was written");
        let (opened, count) = other.join().unwrap();
        assert!(opened && count >= 1);
        let (a, b) = (first.join().unwrap().unwrap(), second.join().unwrap().unwrap());
        assert_eq!(a.encode("同一个模型").unwrap(), b.encode("同一个模型").unwrap());
    });
}
