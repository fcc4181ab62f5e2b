package org.springframework.test.web.servlet.result;

import org.springframework.test.web.servlet.ResultMatcher;

public class StatusResultMatchers {
    public ResultMatcher is(int status) {
        return result -> { };
    }

    public ResultMatcher isOk() {
        return result -> { };
    }

    public ResultMatcher isCreated() {
        return result -> { };
    }

    public ResultMatcher isNoContent() {
        return result -> { };
    }

    public ResultMatcher isBadRequest() {
        return result -> { };
    }

    public ResultMatcher isUnauthorized() {
        return result -> { };
    }

    public ResultMatcher isNotFound() {
        return result -> { };
    }

    public ResultMatcher isMethodNotAllowed() {
        return result -> { };
    }

    public ResultMatcher isServiceUnavailable() {
        return result -> { };
    }
}
