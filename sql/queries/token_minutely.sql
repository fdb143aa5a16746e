-- Tokens issued, refreshed, expired and revoked (invalidated) per minute in [since, until],
-- each a distinct count. Expired minutes can lie ahead of the traffic (tokens due to
-- expire): bound `until` by the last event time, not by the end of time.
SELECT
    minute,
    uniqMerge(issued) AS issued,
    uniqMerge(refreshed) AS refreshed,
    uniqMerge(expired) AS expired,
    uniqMerge(revoked) AS revoked
FROM token_minutely
WHERE minute >= toStartOfMinute({since:DateTime64(3)}) AND minute <= {until:DateTime64(3)}
GROUP BY minute
ORDER BY minute
