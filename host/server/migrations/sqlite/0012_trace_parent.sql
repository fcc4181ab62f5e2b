-- The W3C `traceparent` of the request that submitted the intent, when
-- traces are exported: its run continues that trace on whichever replica
-- claims it.
ALTER TABLE intents ADD COLUMN trace_parent TEXT;
