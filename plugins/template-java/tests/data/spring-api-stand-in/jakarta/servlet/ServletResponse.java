package jakarta.servlet;

import java.io.IOException;
import java.io.PrintWriter;

public interface ServletResponse {
    void setContentType(String type);

    PrintWriter getWriter() throws IOException;
}
