package org.springframework.boot;

public class SpringApplication {
    public static ConfigurableApplicationContext run(Class<?> primarySource, String... args) {
        throw new UnsupportedOperationException();
    }

    public interface ConfigurableApplicationContext {
    }
}
