package org.springframework.test.web.servlet;

@FunctionalInterface
public interface ResultMatcher {
    void match(MvcResult result) throws Exception;

    interface MvcResult {
    }
}
