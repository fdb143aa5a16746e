-- Per minute x service x version x track x route x status class x auth error: requests,
-- auth failures, false expiries, distinct tokens and latency quantiles, fed from `events`
-- by a materialized view (one aggregation per insert block, nothing extra in the writer).
-- failures counts what auth_failure_spike counts: invalid, malformed and missing, plus
-- false expiries; real expiries and revocations are rightly refused and are not failures.
-- Read with sum() for the counters, uniqMerge(tokens) and
-- quantilesTDigestMerge(0.5, 0.9, 0.99)(latency_ms). The dedup window is needed on this
-- target too, or a replayed events insert would be dropped in events but counted here.
CREATE TABLE IF NOT EXISTS auth_minutely
(
    minute DateTime('UTC'),
    service LowCardinality(String),
    version LowCardinality(String),
    track LowCardinality(String),
    route LowCardinality(String),
    status_class LowCardinality(String),
    auth_error LowCardinality(String),
    requests SimpleAggregateFunction(sum, UInt64),
    failures SimpleAggregateFunction(sum, UInt64),
    false_expiries SimpleAggregateFunction(sum, UInt64),
    tokens AggregateFunction(uniq, Nullable(String)),
    latency_ms AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Nullable(Float32))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (service, version, track, minute, route, status_class, auth_error)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS auth_minutely_mv TO auth_minutely AS
SELECT
    toStartOfMinute(ts) AS minute,
    service,
    version,
    track,
    route,
    concat(toString(intDiv(status, 100)), 'xx') AS status_class,
    auth_error,
    toUInt64(count()) AS requests,
    toUInt64(countIf(auth_error IN ('invalid', 'malformed', 'missing') OR false_expiry)) AS failures,
    toUInt64(countIf(false_expiry)) AS false_expiries,
    uniqState(nullIf(token_fp, '')) AS tokens,
    quantilesTDigestState(0.5, 0.9, 0.99)(latency_ms) AS latency_ms
FROM events
GROUP BY minute, service, version, track, route, status_class, auth_error;
