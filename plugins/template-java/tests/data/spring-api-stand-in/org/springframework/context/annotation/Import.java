package org.springframework.context.annotation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Target;

@Target(ElementType.TYPE)
public @interface Import {
    Class<?>[] value();
}
