package com.acme.billing;

public final class Mailer {
    private static final String FROM = "billing@acme.test";
    private static final String KEY = "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";
    private static final String TEMPLATE_ID = "d-6b6f81101365d57ee690d91ddab73dbc";
    private final String password = System.getenv("SMTP_PASSWORD");
}
