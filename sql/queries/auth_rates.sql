-- Auth-failure and false-expiry rates per service version and minute in [since, until]: a
-- release manager's view of a canary or green version against stable. failures counts
-- invalid, malformed and missing tokens plus false expiries (sql/003_auth_minutely.sql).
SELECT
    minute,
    service,
    version,
    track,
    sum(requests) AS requests,
    sum(failures) AS failures,
    sum(false_expiries) AS false_expiries,
    round(failures / requests, 4) AS failure_rate,
    round(false_expiries / requests, 4) AS false_expiry_rate,
    uniqMerge(tokens) AS tokens
FROM auth_minutely
WHERE minute >= toStartOfMinute({since:DateTime64(3)}) AND minute <= {until:DateTime64(3)}
GROUP BY minute, service, version, track
ORDER BY service, version, track, minute
