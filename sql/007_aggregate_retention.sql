-- Retention for the per-minute aggregates. Their rows are keyed by event minute, which is
-- no clock to expire by: analysing last year's logs would lose its aggregates at the next
-- merge. written_at is when a row was last written: the materialized views leave it out,
-- so every insert gets the DEFAULT, and a merge keeps the latest (max) of the rows it
-- folds, so a minute still being written to stays. migrate.ts sets the TTL interval to
-- store.aggregateRetentionDays; the 90 days here are its default.
ALTER TABLE auth_minutely ADD COLUMN IF NOT EXISTS written_at SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT now();

ALTER TABLE auth_minutely MODIFY TTL written_at + INTERVAL 90 DAY;

ALTER TABLE token_minutely ADD COLUMN IF NOT EXISTS written_at SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT now();

ALTER TABLE token_minutely MODIFY TTL written_at + INTERVAL 90 DAY;
