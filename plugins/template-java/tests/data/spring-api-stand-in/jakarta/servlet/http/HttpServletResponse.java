package jakarta.servlet.http;

import jakarta.servlet.ServletResponse;

public interface HttpServletResponse extends ServletResponse {
    int SC_UNAUTHORIZED = 401;

    void setStatus(int sc);

    void setHeader(String name, String value);
}
