-- The most severe findings in [since, until], newest first within a severity.
SELECT id, kind, severity, action, detected_at, service, version, track, jti, token_fp, session_id, summary
FROM findings FINAL
WHERE detected_at >= {since:DateTime64(3)} AND detected_at <= {until:DateTime64(3)}
ORDER BY indexOf(['critical', 'high', 'medium', 'low', 'info'], severity), detected_at DESC, id
LIMIT {limit:UInt32}
