package org.sbert4j.spark;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local file system under a scheme of its own, {@code sbert4jtest:///path}:
 * for the cluster test, a Hadoop file system other than {@code file:}, so that
 * {@code SparkContext.addFile(dir, true)} accepts a directory outside local
 * mode, as it does one on HDFS or S3 (registered with
 * {@code spark.hadoop.fs.sbert4jtest.impl}; every node of the test cluster
 * sees the same disk).
 */
public class LoopbackFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "sbert4jtest";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }
}
