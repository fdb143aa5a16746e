-- The migrator's own record: one row per applied migration file, with the checksum it had
-- when applied, so an edited (already shipped) migration is refused instead of ignored.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
