package org.sbert4j;

/** Loads the library in a fresh JVM (JavaApiTest reads the one INFO line it logs on standard error). */
public final class LibraryLoadLogMain {
    private LibraryLoadLogMain() {}

    public static void main(String[] args) {
        System.out.println("budget " + SentenceEncoder.threadBudget());
        System.out.println("budget " + SentenceEncoder.threadBudget());
    }
}
