-- The headline token metrics per minute: tokens issued, refreshed, revoked (invalidated)
-- and expired, each a distinct count (uniq state), so a token seen by many requests or
-- events counts once per minute. Fed by three views:
--   issued / refreshed / revoked from token_events at the event's minute; a revocation
--   counts what it invalidated (token, refresh token, session or subject);
--   expired at the minute of exp, from IdP-issued tokens and from tokens first seen at the
--   gateway (JWT exp claim), keyed like the lifecycle store: jti, else token_fp.
-- Expired minutes can lie ahead of now (tokens due to expire): reports bound them by now().
-- Read with uniqMerge(issued) etc. Events without a token id count by their source position.
CREATE TABLE IF NOT EXISTS token_minutely
(
    minute DateTime('UTC'),
    issued AggregateFunction(uniq, Nullable(String)),
    refreshed AggregateFunction(uniq, Nullable(String)),
    revoked AggregateFunction(uniq, Nullable(String)),
    expired AggregateFunction(uniq, Nullable(String))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY minute
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS token_minutely_idp_mv TO token_minutely AS
WITH
    concat(source, ':', toString(source_offset)) AS position,
    if(token_id != '', token_id, position) AS issued_key,
    multiIf(token_id != '', token_id, refresh_token_id != '', refresh_token_id,
            session_id != '', session_id, subject != '', subject, position) AS revoked_key
SELECT
    toStartOfMinute(ts) AS minute,
    uniqState(if(type = 'issued', issued_key, NULL)) AS issued,
    uniqState(if(type = 'refreshed', issued_key, NULL)) AS refreshed,
    uniqState(if(type IN ('revoked', 'logout', 'reuse_detected'), revoked_key, NULL)) AS revoked
FROM token_events
GROUP BY minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS token_minutely_idp_expiry_mv TO token_minutely AS
SELECT
    toStartOfMinute(assumeNotNull(exp)) AS minute,
    uniqState(toNullable(if(token_id != '', token_id, concat(source, ':', toString(source_offset))))) AS expired
FROM token_events
WHERE exp IS NOT NULL AND type IN ('issued', 'refreshed')
GROUP BY minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS token_minutely_gateway_expiry_mv TO token_minutely AS
SELECT
    toStartOfMinute(assumeNotNull(exp)) AS minute,
    uniqState(toNullable(if(jti != '', jti, token_fp))) AS expired
FROM events
WHERE exp IS NOT NULL AND (jti != '' OR token_fp != '')
GROUP BY minute;
