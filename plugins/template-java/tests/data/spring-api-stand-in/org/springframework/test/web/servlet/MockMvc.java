package org.springframework.test.web.servlet;

public final class MockMvc {
    public ResultActions perform(RequestBuilder requestBuilder) throws Exception {
        throw new UnsupportedOperationException();
    }
}
