package org.example.util;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Delivers events to the listeners subscribed to their type.
 */
public class EventBus {

    /** Receives events of one type. */
    public interface Listener<E> {
        void onEvent(E event);

        /** Whether the listener wants {@code event}; all by default. */
        default boolean accepts(E event) {
            return event != null;
        }
    }

    private final Map<Class<?>, List<Listener<?>>> listeners = new ConcurrentHashMap<>();
    private final Consumer<Throwable> errorHandler;

    public EventBus() {
        this(t -> System.err.println("listener failed: " + t));
    }

    public EventBus(Consumer<Throwable> errorHandler) {
        this.errorHandler = errorHandler;
    }

    public <E> Runnable subscribe(Class<E> type, Listener<? super E> listener) {
        List<Listener<?>> list = listeners.computeIfAbsent(type, k -> new CopyOnWriteArrayList<>());
        list.add(listener);
        return new Runnable() {
            @Override
            public void run() {
                list.remove(listener);
                if (list.isEmpty()) {
                    listeners.remove(type, list);
                }
            }
        };
    }

    /** Delivers {@code event}; returns how many listeners took it. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public int publish(Object event) {
        int delivered = 0;
        for (Map.Entry<Class<?>, List<Listener<?>>> entry : listeners.entrySet()) {
            if (!entry.getKey().isInstance(event)) {
                continue;
            }
            for (Listener listener : entry.getValue()) {
                try {
                    if (listener.accepts(event)) {
                        listener.onEvent(event);
                        delivered++;
                    }
                } catch (RuntimeException e) {
                    errorHandler.accept(e);
                }
            }
        }
        return delivered;
    }

    public int listenerCount() {
        return listeners.values().stream().mapToInt(List::size).sum();
    }
}
