-- The span of event time stored and the number of events: reports measure "since" from the
-- last event, so an analysis of last week's logs reads the same as a live store.
SELECT min(ts) AS first_event, max(ts) AS last_event, count() AS events
FROM
(
    SELECT ts FROM events
    UNION ALL
    SELECT ts FROM token_events
)
