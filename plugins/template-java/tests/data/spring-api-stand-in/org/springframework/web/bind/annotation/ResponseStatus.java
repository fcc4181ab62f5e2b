package org.springframework.web.bind.annotation;

import java.lang.annotation.ElementType;
import java.lang.annotation.Target;
import org.springframework.http.HttpStatus;

@Target({ElementType.TYPE, ElementType.METHOD})
public @interface ResponseStatus {
    HttpStatus value() default HttpStatus.OK;

    HttpStatus code() default HttpStatus.OK;

    String reason() default "";
}
