package org.sbert4j;

import org.junit.runner.Description;
import org.junit.runner.JUnitCore;
import org.junit.runner.Request;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunListener;

/**
 * Runs a chosen subset of the JUnit tests outside Gradle: each argument a class ({@code org.sbert4j.ParityTest}) or
 * one method ({@code org.sbert4j.SentenceEncoderTest#nullInputIsAnIllegalArgument}). Used by .ci/aarch64-tests on
 * the arm64 JVM under qemu; exits 1 if a test failed or none ran.
 */
public final class SubsetMain {
    private SubsetMain() {}

    public static void main(String[] args) throws ClassNotFoundException {
        JUnitCore core = new JUnitCore();
        core.addListener(new RunListener() {
            @Override
            public void testFinished(Description d) {
                System.out.println("  ran " + d.getClassName() + "#" + d.getMethodName());
            }

            @Override
            public void testFailure(Failure f) {
                System.out.println("  FAILED " + f.getTestHeader() + ": " + f.getTrace());
            }

            @Override
            public void testAssumptionFailure(Failure f) {
                System.out.println("  skipped " + f.getTestHeader() + ": " + f.getMessage());
            }
        });
        int run = 0;
        int failed = 0;
        for (String arg : args) {
            int hash = arg.indexOf('#');
            Class<?> type = Class.forName(hash < 0 ? arg : arg.substring(0, hash));
            Request request = hash < 0 ? Request.aClass(type) : Request.method(type, arg.substring(hash + 1));
            Result result = core.run(request);
            run += result.getRunCount();
            failed += result.getFailureCount();
        }
        System.out.println("SubsetMain: " + run + " run, " + failed + " failed");
        System.exit(failed == 0 && run > 0 ? 0 : 1);
    }
}
