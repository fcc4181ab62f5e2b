package org.springframework.http;

public enum HttpStatus implements HttpStatusCode {
    OK, CREATED, NO_CONTENT, BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, METHOD_NOT_ALLOWED,
    SERVICE_UNAVAILABLE;

    public int value() {
        throw new UnsupportedOperationException();
    }
}
