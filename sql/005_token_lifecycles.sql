-- One current row per token (keyed like the lifecycle store: jti, else token_fp): the
-- writer re-sends a token's row whenever its state changes, and ReplacingMergeTree keeps
-- the row with the highest updated_at (stream time of the last change; on a tie the last
-- inserted). Merges are eventual: read with FINAL or argMax(..., updated_at).
-- Retention counts from the last write of the row (ingestion time), 30 days.
CREATE TABLE IF NOT EXISTS token_lifecycles
(
    token_key String,
    token_fp String,
    jti String,
    session_id String,
    family String,
    subject String,
    client_id LowCardinality(String),
    state LowCardinality(String),
    issued_at Nullable(DateTime64(3, 'UTC')),
    first_use_at Nullable(DateTime64(3, 'UTC')),
    last_use_at Nullable(DateTime64(3, 'UTC')),
    exp Nullable(DateTime64(3, 'UTC')),
    revoked_at Nullable(DateTime64(3, 'UTC')),
    revoked_by LowCardinality(String),
    uses UInt32,
    failures UInt32,
    distinct_clients UInt16,
    updated_at DateTime64(3, 'UTC'),
    ingested_at DateTime('UTC') DEFAULT now(),
    INDEX fp_bloom token_fp TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX session_bloom session_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX family_bloom family TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY token_key
TTL ingested_at + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000;
