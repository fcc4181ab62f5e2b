package jakarta.servlet.http;

import jakarta.servlet.ServletRequest;

public interface HttpServletRequest extends ServletRequest {
    String getHeader(String name);

    String getRequestURI();

    String getContextPath();

    String getServletPath();

    String getMethod();
}
