-- One row per finding id: a detector that updates a finding (more evidence, a later
-- detectedAt) re-emits it with the same id, and ReplacingMergeTree keeps the latest
-- detected_at. ORDER BY (kind, id) is unique per id (the id hashes the kind) and groups
-- the SOC's per-kind queries. No partitioning: a finding's rows must meet in one
-- partition to be replaced, and findings are few. evidence is the Finding's JSON text
-- (JSONExtract* reads it). Read with FINAL or argMax(..., detected_at).
CREATE TABLE IF NOT EXISTS findings
(
    id String,
    kind LowCardinality(String),
    severity LowCardinality(String),
    action LowCardinality(String),
    detected_at DateTime64(3, 'UTC'),
    first_event_at DateTime64(3, 'UTC'),
    token_fp String,
    jti String,
    session_id String,
    subject String,
    service LowCardinality(String),
    version LowCardinality(String),
    track LowCardinality(String),
    summary String,
    evidence String,
    ingested_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(detected_at)
ORDER BY (kind, id)
SETTINGS non_replicated_deduplication_window = 10000;
