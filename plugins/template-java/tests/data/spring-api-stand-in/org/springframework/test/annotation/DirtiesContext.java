package org.springframework.test.annotation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Target;

@Target({ElementType.TYPE, ElementType.METHOD})
public @interface DirtiesContext {
    ClassMode classMode() default ClassMode.AFTER_CLASS;

    enum ClassMode {
        BEFORE_CLASS, BEFORE_EACH_TEST_METHOD, AFTER_EACH_TEST_METHOD, AFTER_CLASS
    }
}
