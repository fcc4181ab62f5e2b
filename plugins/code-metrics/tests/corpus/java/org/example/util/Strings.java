package org.example.util;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/** Small string helpers. */
public final class Strings {
    private Strings() {
    }

    /** Whether {@code s} is null or only whitespace. */
    public static boolean isBlank(String s) {
        if (s == null) {
            return true;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isWhitespace(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    public static String join(String separator, Collection<?> parts) {
        StringBuilder sb = new StringBuilder();
        Iterator<?> it = parts.iterator();
        while (it.hasNext()) {
            sb.append(it.next());
            if (it.hasNext()) {
                sb.append(separator);
            }
        }
        return sb.toString();
    }

    /**
     * Splits on {@code sep}, keeping empty parts; "a,,b" gives three parts.
     */
    public static List<String> split(String s, char sep) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (i == s.length() || s.charAt(i) == sep) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        return out;
    }

    // Converts "some_name" and "some-name" to "someName".
    public static String camelCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean upper = false;
        for (char c : s.toCharArray()) {
            if (c == '_' || c == '-') {
                upper = sb.length() > 0;
            } else if (upper) {
                sb.append(Character.toUpperCase(c));
                upper = false;
            } else {
                sb.append(Character.toLowerCase(c));
            }
        }
        return sb.toString();
    }

    public static String truncate(String s, int max) {
        return s == null ? null : s.length() <= max ? s : s.substring(0, Math.max(0, max - 1)) + "…";
    }

    /* Levenshtein distance, two rows at a time. */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    public static String title(String s) {
        if (isBlank(s)) {
            return s;
        }
        String lower = s.toLowerCase(Locale.ROOT);
        return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
    }

    @SuppressWarnings("unchecked")
    public static <T extends Comparable<? super T>> T max(T... values) {
        T best = null;
        for (T v : values) {
            if (best == null || (v != null && v.compareTo(best) > 0)) {
                best = v;
            }
        }
        return best;
    }
}
