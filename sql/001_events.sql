-- One row per gateway request (AccessEvent). Never the raw token: token_fp only. Empty
-- strings stand for absent text fields so they can sit in the sorting key and indexes.
-- ORDER BY (service, version, token_fp, ts): service and version have few values, so a
-- per-version scan reads one contiguous range and a per-token lookup (token_fp) still
-- skips granules with ClickHouse's generic exclusion search; ts last keeps each token's
-- requests in time order for timelines. jti and session_id lookups use bloom filters.
-- PARTITION BY day; retention (TTL) counts from ingestion, not event time, so analysing
-- last month's logs does not vanish at the next merge; migrate.ts adjusts the interval.
-- false_expiry: an `expired` rejection of a token whose exp is still ahead (writer-computed).
-- non_replicated_deduplication_window: an insert re-sent with the same
-- insert_deduplication_token within the table's last 10,000 inserts is dropped, here and
-- (with the same window on each target) in the views fed from this table.
CREATE TABLE IF NOT EXISTS events
(
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    gateway LowCardinality(String),
    request_id String,
    method LowCardinality(String),
    path String,
    route LowCardinality(String),
    host LowCardinality(String),
    status UInt16,
    latency_ms Nullable(Float32),
    client_ip String,
    user_agent String,
    token_fp String,
    token_kind LowCardinality(String),
    jti String,
    subject String,
    session_id String,
    client_id LowCardinality(String),
    iat Nullable(DateTime64(3, 'UTC')),
    exp Nullable(DateTime64(3, 'UTC')),
    iss LowCardinality(String),
    aud Array(String),
    alg LowCardinality(String),
    verified Nullable(Bool),
    auth_error LowCardinality(String),
    false_expiry Bool,
    service LowCardinality(String),
    version LowCardinality(String),
    track LowCardinality(String),
    consumer_id String,
    source LowCardinality(String),
    source_offset UInt64,
    ingested_at DateTime('UTC') DEFAULT now(),
    INDEX jti_bloom jti TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX session_bloom session_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (service, version, token_fp, ts)
TTL ingested_at + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;
