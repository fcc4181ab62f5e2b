package org.springframework.stereotype;

import java.lang.annotation.ElementType;
import java.lang.annotation.Target;

@Target(ElementType.TYPE)
public @interface Component {
    String value() default "";
}
