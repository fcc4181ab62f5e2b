package org.springframework.test.web.servlet.result;

import org.springframework.test.web.servlet.ResultMatcher;

public class JsonPathResultMatchers {
    public ResultMatcher value(Object expectedValue) {
        return result -> { };
    }

    public ResultMatcher exists() {
        return result -> { };
    }

    public ResultMatcher isNotEmpty() {
        return result -> { };
    }
}
