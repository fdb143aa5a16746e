-- Findings by kind, severity and action in [since, until]: the SOC's first question.
SELECT
    kind,
    severity,
    action,
    count() AS findings,
    min(detected_at) AS first_detected,
    max(detected_at) AS last_detected
FROM findings FINAL
WHERE detected_at >= {since:DateTime64(3)} AND detected_at <= {until:DateTime64(3)}
GROUP BY kind, severity, action
ORDER BY indexOf(['critical', 'high', 'medium', 'low', 'info'], severity), findings DESC, kind, action
