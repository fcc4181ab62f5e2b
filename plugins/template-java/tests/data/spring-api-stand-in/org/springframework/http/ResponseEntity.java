package org.springframework.http;

public class ResponseEntity<T> {
    public static <T> ResponseEntity<T> ok(T body) {
        throw new UnsupportedOperationException();
    }

    public static BodyBuilder status(HttpStatusCode status) {
        throw new UnsupportedOperationException();
    }

    public static BodyBuilder status(int status) {
        throw new UnsupportedOperationException();
    }

    public HttpStatusCode getStatusCode() {
        throw new UnsupportedOperationException();
    }

    public T getBody() {
        throw new UnsupportedOperationException();
    }

    public interface HeadersBuilder<B extends HeadersBuilder<B>> {
        B header(String headerName, String... headerValues);

        <T> ResponseEntity<T> build();
    }

    public interface BodyBuilder extends HeadersBuilder<BodyBuilder> {
        BodyBuilder contentType(MediaType contentType);

        <T> ResponseEntity<T> body(T body);
    }
}
