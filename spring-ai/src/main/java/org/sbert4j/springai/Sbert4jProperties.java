package org.sbert4j.springai;

import org.sbert4j.Precision;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code sbert4j.*} properties {@link Sbert4jAutoConfiguration} opens the
 * encoder with. Only {@code sbert4j.model-dir} is needed; unset options
 * follow the model directory, as {@link org.sbert4j.SentenceEncoder.Builder}'s do.
 *
 * <p>In a {@code .properties} file a comment is a line of its own (a {@code #} after a value is part of the
 * value):
 *
 * <pre>
 * # a directory, a file: URL, or classpath:models/all-MiniLM-L6-v2 (copied out of the jar once)
 * sbert4j.model-dir=/opt/models/all-MiniLM-L6-v2
 * # default: the model's modules.json
 * sbert4j.normalize=true
 * # default: its sentence_bert_config.json
 * sbert4j.max-sequence-length=128
 * # texts per forward pass
 * sbert4j.batch-size=32
 * # coalesce concurrent single-text calls
 * sbert4j.micro-batching=true
 * # the most threads a forward pass keeps busy
 * sbert4j.threads=4
 * # fp32 (default), bf16 or int8 (see org.sbert4j.Precision)
 * sbert4j.precision=int8
 * # default: the directory's name
 * sbert4j.model-name=minilm
 * </pre>
 *
 * <p>Also: {@code sbert4j.truncate-dim}, {@code sbert4j.query-prompt-name}, {@code sbert4j.document-prompt-name}.
 * Select this provider beside other Spring AI starters with {@code spring.ai.model.embedding=sbert4j}.
 */
@ConfigurationProperties(prefix = Sbert4jProperties.PREFIX)
public class Sbert4jProperties {
    /** The properties' prefix. */
    public static final String PREFIX = "sbert4j";

    /**
     * The sentence-transformers model directory (modules.json, config.json, weights, tokenizer.json): a path, a
     * file: URL, or a classpath: location (copied out of the class path once per process).
     */
    private String modelDir;
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
    /** Keep only the first N components of every vector (sentence-transformers' truncate_dim); unset: all. */
    private Integer truncateDim;
    /** The model's prompt for queries (embed(String)); unset: "query" if the model has it, else the default prompt; empty: none. */
    private String queryPromptName;
    /** The model's prompt for documents; unset: the first of "document", "passage", "corpus" the model has, else the default prompt; empty: none. */
    private String documentPromptName;

    public String getModelDir() {
        return modelDir;
    }

    public void setModelDir(String modelDir) {
        this.modelDir = modelDir;
    }

    public Integer getTruncateDim() {
        return truncateDim;
    }

    public void setTruncateDim(Integer truncateDim) {
        this.truncateDim = truncateDim;
    }

    public String getQueryPromptName() {
        return queryPromptName;
    }

    public void setQueryPromptName(String queryPromptName) {
        this.queryPromptName = queryPromptName;
    }

    public String getDocumentPromptName() {
        return documentPromptName;
    }

    public void setDocumentPromptName(String documentPromptName) {
        this.documentPromptName = documentPromptName;
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
