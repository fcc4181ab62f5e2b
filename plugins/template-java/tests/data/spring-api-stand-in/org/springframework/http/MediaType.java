package org.springframework.http;

public class MediaType {
    public static final MediaType APPLICATION_JSON = new MediaType();
    public static final String APPLICATION_JSON_VALUE = "application/json";
}
