-- One row per IdP event (TokenEvent). ORDER BY (session_id, ts): a session's issue,
-- refresh and revocation history is one contiguous, time-ordered range; lookups by token,
-- refresh token (family) or subject use bloom filters. Partitions, retention and the dedup
-- window as in 001_events.sql.
CREATE TABLE IF NOT EXISTS token_events
(
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    idp LowCardinality(String),
    type LowCardinality(String),
    idp_event_type LowCardinality(String),
    token_id String,
    refresh_token_id String,
    parent_refresh_token_id String,
    session_id String,
    subject String,
    client_id LowCardinality(String),
    ip String,
    exp Nullable(DateTime64(3, 'UTC')),
    reason String,
    source LowCardinality(String),
    source_offset UInt64,
    ingested_at DateTime('UTC') DEFAULT now(),
    INDEX token_bloom token_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX refresh_bloom refresh_token_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX parent_bloom parent_refresh_token_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX subject_bloom subject TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (session_id, ts)
TTL ingested_at + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;
