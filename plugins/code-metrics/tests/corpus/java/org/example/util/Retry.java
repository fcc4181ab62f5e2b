package org.example.util;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * Runs an action again when it fails, with exponential back-off.
 */
public final class Retry {
    private static final Logger LOG = Logger.getLogger(Retry.class.getName());

    private final int attempts;
    private final Duration initialDelay;
    private final Predicate<Throwable> retryable;

    private Retry(Builder builder) {
        this.attempts = builder.attempts;
        this.initialDelay = builder.initialDelay;
        this.retryable = builder.retryable;
    }

    /** A builder with three attempts and a 100 ms first delay. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link Retry} instances. */
    public static final class Builder {
        private int attempts = 3;
        private Duration initialDelay = Duration.ofMillis(100);
        private Predicate<Throwable> retryable = t -> !(t instanceof IllegalArgumentException);

        public Builder attempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts < 1");
            }
            this.attempts = attempts;
            return this;
        }

        public Builder initialDelay(Duration delay) {
            this.initialDelay = delay;
            return this;
        }

        public Builder retryOn(Predicate<Throwable> predicate) {
            this.retryable = predicate;
            return this;
        }

        public Retry build() {
            return new Retry(this);
        }
    }

    /**
     * Calls {@code action} until it succeeds, the attempts run out or it
     * fails with an error that is not retryable.
     */
    public <T> T call(Callable<T> action) throws Exception {
        Exception last = null;
        long delay = initialDelay.toMillis();
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                return action.call();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw e;
            } catch (Exception e) {
                last = e;
                if (!retryable.test(e) || attempt == attempts) {
                    break;
                }
                LOG.fine(() -> "attempt " + attempt + " failed: " + e.getMessage());
                sleep(delay);
                delay = Math.min(delay * 2, 30_000);
            }
        }
        throw last != null ? last : new IllegalStateException("no attempt made");
    }

    /** Like {@link #call} but returns empty instead of throwing. */
    public <T> Optional<T> tryCall(Callable<T> action) {
        try {
            return Optional.ofNullable(call(action));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static void sleep(long millis) throws InterruptedException {
        if (millis > 0) {
            Thread.sleep(millis);
        }
    }

    @Override
    public String toString() {
        return "Retry{attempts=" + attempts + ", initialDelay=" + initialDelay + "}";
    }
}
