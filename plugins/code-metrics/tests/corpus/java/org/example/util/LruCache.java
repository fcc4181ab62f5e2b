package org.example.util;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A fixed-capacity cache that evicts the least recently used entry.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class LruCache<K, V> {

    /** One entry of the recency list. */
    private static final class Node<K, V> {
        final K key;
        V value;
        Node<K, V> prev;
        Node<K, V> next;

        Node(K key, V value) {
            this.key = key;
            this.value = value;
        }
    }

    private final int capacity;
    private final Map<K, Node<K, V>> index = new HashMap<>();
    private Node<K, V> head;
    private Node<K, V> tail;
    private long hits;
    private long misses;

    /**
     * Creates a cache holding at most {@code capacity} entries.
     */
    public LruCache(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
    }

    /** Returns the value for {@code key}, or null. */
    public V get(K key) {
        Node<K, V> node = index.get(key);
        if (node == null) {
            misses++;
            return null;
        }
        hits++;
        moveToFront(node);
        return node.value;
    }

    /**
     * Returns the cached value, computing and caching it when absent.
     */
    public V computeIfAbsent(K key, Function<? super K, ? extends V> loader) {
        Objects.requireNonNull(loader, "loader");
        V value = get(key);
        if (value == null) {
            value = loader.apply(key);
            if (value != null) {
                put(key, value);
            }
        }
        return value;
    }

    public void put(K key, V value) {
        Node<K, V> node = index.get(key);
        if (node != null) {
            node.value = value;
            moveToFront(node);
            return;
        }
        node = new Node<>(key, value);
        index.put(key, node);
        addFirst(node);
        while (index.size() > capacity && tail != null) {
            Node<K, V> evicted = tail;
            unlink(evicted);
            index.remove(evicted.key);
        }
    }

    public boolean remove(K key) {
        Node<K, V> node = index.remove(key);
        if (node == null) {
            return false;
        }
        unlink(node);
        return true;
    }

    public double hitRate() {
        long total = hits + misses;
        return total == 0 ? 0.0 : (double) hits / total;
    }

    public int size() {
        return index.size();
    }

    private void moveToFront(Node<K, V> node) {
        if (node == head) {
            return;
        }
        unlink(node);
        addFirst(node);
    }

    private void addFirst(Node<K, V> node) {
        node.next = head;
        node.prev = null;
        if (head != null) {
            head.prev = node;
        }
        head = node;
        if (tail == null) {
            tail = node;
        }
    }

    private void unlink(Node<K, V> node) {
        if (node.prev != null) {
            node.prev.next = node.next;
        } else {
            head = node.next;
        }
        if (node.next != null) {
            node.next.prev = node.prev;
        } else {
            tail = node.prev;
        }
        node.prev = null;
        node.next = null;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("LruCache[");
        for (Node<K, V> n = head; n != null; n = n.next) {
            sb.append(n.key).append('=').append(n.value);
            if (n.next != null) {
                sb.append(", ");
            }
        }
        return sb.append(']').toString();
    }
}
