package org.sbert4j.spark;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.types.DataType;

/**
 * The ML {@code Vector} output of the encoders (spark-mllib): loaded only when a vector column is asked for, so
 * {@code array<float>} jobs run without spark-mllib on the classpath.
 */
final class MlVectors {
    private MlVectors() {}

    /** Spark ML's vector column type ({@code VectorUDT}). */
    static DataType type() {
        return SQLDataTypes.VectorType();
    }

    /** {@code v} as a dense ML vector (float to double widens exactly). */
    static Vector dense(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return Vectors.dense(d);
    }
}
