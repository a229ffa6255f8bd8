package org.sbert4j.springai;

import java.nio.file.Path;

import org.sbert4j.Precision;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code sbert4j.*} properties {@link Sbert4jAutoConfiguration} opens the
 * encoder with. Only {@code sbert4j.model-dir} is needed; unset options
 * follow the model directory, as {@link org.sbert4j.SentenceEncoder.Builder}'s do.
 *
 * <pre>
 * sbert4j.model-dir=/opt/models/all-MiniLM-L6-v2
 * sbert4j.normalize=true                # default: the model's modules.json
 * sbert4j.max-sequence-length=128       # default: its sentence_bert_config.json
 * sbert4j.batch-size=32                 # texts per forward pass
 * sbert4j.micro-batching=true           # coalesce concurrent single-text calls
 * sbert4j.precision=int8                # fp32 (default), bf16 or int8 (see org.sbert4j.Precision)
 * sbert4j.model-name=minilm             # default: the directory's name
 * </pre>
 */
@ConfigurationProperties(prefix = Sbert4jProperties.PREFIX)
public class Sbert4jProperties {
    /** The properties' prefix. */
    public static final String PREFIX = "sbert4j";

    /** The sentence-transformers model directory (modules.json, config.json, weights, tokenizer.json). */
    private Path modelDir;
    /** Scale vectors to unit length, or not; unset: as the model's modules.json says. */
    private Boolean normalize;
    /** Truncate texts at this many tokens; unset: the model's max_seq_length. */
    private Integer maxSequenceLength;
    /** Texts per forward pass; unset: the core's default (32). */
    private Integer batchSize;
    /** Coalesce concurrent single-text calls into shared forward passes (default on). */
    private boolean microBatching = true;
    /** The most threads a forward pass keeps busy; unset: the process's thread budget (-Dsbert4j.threads). */
    private Integer threads;
    /** The number format of the model's linear layers: fp32 (default), bf16 or int8 (see {@link Precision}). */
    private Precision precision = Precision.FP32;
    /** Model name reported in responses; unset: the model directory's name. */
    private String modelName;

    public Path getModelDir() {
        return modelDir;
    }

    public void setModelDir(Path modelDir) {
        this.modelDir = modelDir;
    }

    public Boolean getNormalize() {
        return normalize;
    }

    public void setNormalize(Boolean normalize) {
        this.normalize = normalize;
    }

    public Integer getMaxSequenceLength() {
        return maxSequenceLength;
    }

    public void setMaxSequenceLength(Integer maxSequenceLength) {
        this.maxSequenceLength = maxSequenceLength;
    }

    public Integer getBatchSize() {
        return batchSize;
    }

    public void setBatchSize(Integer batchSize) {
        this.batchSize = batchSize;
    }

    public Integer getThreads() {
        return threads;
    }

    public void setThreads(Integer threads) {
        this.threads = threads;
    }

    public Precision getPrecision() {
        return precision;
    }

    public void setPrecision(Precision precision) {
        this.precision = precision;
    }

    public boolean isMicroBatching() {
        return microBatching;
    }

    public void setMicroBatching(boolean microBatching) {
        this.microBatching = microBatching;
    }

    public String getModelName() {
        return modelName;
    }

    public void setModelName(String modelName) {
        this.modelName = modelName;
    }
}
