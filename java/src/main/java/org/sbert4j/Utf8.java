package org.sbert4j;

import java.util.List;

/**
 * Packs texts into one UTF-8 buffer for the native side. An unpaired
 * surrogate (legal in a Java String, not in UTF-8) becomes U+FFFD, exactly
 * as Python decodes such a string with errors="replace".
 */
final class Utf8 {
    private static final int REPLACEMENT = 0xFFFD;

    /**
     * The packed texts: text i is {@code bytes[ends[i-1] .. ends[i])}; bytes
     * past the last end are spare room, never read.
     */
    static final class Packed {
        final byte[] bytes;
        final int[] ends;

        Packed(byte[] bytes, int[] ends) {
            this.bytes = bytes;
            this.ends = ends;
        }
    }

    private Utf8() {}

    static Packed pack(List<String> texts, int from, int to) {
        long size = 0;
        for (int i = from; i < to; i++) {
            size += (long) texts.get(i).length() * 3; // at most 3 bytes per UTF-16 unit
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("texts " + from + ".." + (to - 1) + " are too large to encode in one call");
        }
        byte[] buf = new byte[(int) size];
        int[] ends = new int[to - from];
        int pos = 0;
        for (int i = from; i < to; i++) {
            pos = encode(texts.get(i), buf, pos);
            ends[i - from] = pos;
        }
        return new Packed(buf, ends);
    }

    private static int encode(String s, byte[] out, int pos) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            int cp;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                cp = Character.toCodePoint(c, s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                cp = REPLACEMENT;
            } else {
                cp = c;
            }
            if (cp < 0x80) {
                out[pos++] = (byte) cp;
            } else if (cp < 0x800) {
                out[pos++] = (byte) (0xC0 | (cp >> 6));
                out[pos++] = (byte) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[pos++] = (byte) (0xE0 | (cp >> 12));
                out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[pos++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                out[pos++] = (byte) (0xF0 | (cp >> 18));
                out[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[pos++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return pos;
    }
}
