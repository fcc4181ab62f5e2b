package org.example.util;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits JSON text into tokens. Strings keep their escapes decoded.
 */
public class JsonTokenizer {

    /** What a token is. */
    public enum Kind {
        LEFT_BRACE, RIGHT_BRACE, LEFT_BRACKET, RIGHT_BRACKET, COLON, COMMA,
        STRING, NUMBER, TRUE, FALSE, NULL;

        /** Whether the token opens a container. */
        public boolean opens() {
            return this == LEFT_BRACE || this == LEFT_BRACKET;
        }
    }

    /** One token with its offset. */
    public record Token(Kind kind, String text, int offset) {
        public Token {
            if (offset < 0) {
                throw new IllegalArgumentException("offset");
            }
        }
    }

    /** Thrown on malformed input. */
    public static class JsonException extends RuntimeException {
        private final int offset;

        public JsonException(String message, int offset) {
            super(message + " at offset " + offset);
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    private static final String SAMPLE = """
        {"if": "while", "for": [1, 2, 3], "ok": true}
        """;

    private final String text;
    private int pos;

    public JsonTokenizer(String text) {
        this.text = text;
    }

    /** All tokens of the text. */
    public List<Token> tokenize() {
        List<Token> out = new ArrayList<>();
        while (true) {
            skipWhitespace();
            if (pos >= text.length()) {
                return out;
            }
            out.add(next());
        }
    }

    private void skipWhitespace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private Token next() {
        int start = pos;
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                pos++;
                return new Token(Kind.LEFT_BRACE, "{", start);
            case '}':
                pos++;
                return new Token(Kind.RIGHT_BRACE, "}", start);
            case '[':
                pos++;
                return new Token(Kind.LEFT_BRACKET, "[", start);
            case ']':
                pos++;
                return new Token(Kind.RIGHT_BRACKET, "]", start);
            case ':':
                pos++;
                return new Token(Kind.COLON, ":", start);
            case ',':
                pos++;
                return new Token(Kind.COMMA, ",", start);
            case '"':
                return string();
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                return literal();
        }
    }

    private Token string() {
        int start = pos++;
        StringBuilder sb = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return new Token(Kind.STRING, sb.toString(), start);
            }
            if (c == '\\') {
                if (pos >= text.length()) {
                    break;
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        if (pos + 4 > text.length()) {
                            throw new JsonException("short unicode escape", pos);
                        }
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> sb.append(e);
                }
            } else {
                sb.append(c);
            }
        }
        throw new JsonException("unterminated string", start);
    }

    private Token number() {
        int start = pos;
        if (text.charAt(pos) == '-') {
            pos++;
        }
        while (pos < text.length()) {
            char c = text.charAt(pos);
            boolean part = Character.isDigit(c) || c == '.' || c == 'e' || c == 'E'
                || c == '+' || c == '-';
            if (!part) {
                break;
            }
            pos++;
        }
        return new Token(Kind.NUMBER, text.substring(start, pos), start);
    }

    private Token literal() {
        int start = pos;
        for (Kind kind : new Kind[] {Kind.TRUE, Kind.FALSE, Kind.NULL}) {
            String word = kind.name().toLowerCase();
            if (text.startsWith(word, pos)) {
                pos += word.length();
                return new Token(kind, word, start);
            }
        }
        throw new JsonException("unexpected character '" + text.charAt(pos) + "'", pos);
    }

    public static int countTokens(String json) {
        try {
            return new JsonTokenizer(json).tokenize().size();
        } catch (JsonException e) {
            return -1;
        }
    }
}
