package org.springframework.web.bind.annotation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Target;

@Target(ElementType.METHOD)
public @interface ExceptionHandler {
    Class<? extends Throwable>[] value() default {};
}
