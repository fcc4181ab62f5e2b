package org.springframework.boot.test.autoconfigure.web.servlet;

import java.lang.annotation.ElementType;
import java.lang.annotation.Target;

@Target(ElementType.TYPE)
public @interface WebMvcTest {
    String[] properties() default {};

    Class<?>[] value() default {};

    Class<?>[] controllers() default {};
}
