-- Everything known about a jti, token fingerprint or session in time order: its IdP
-- events, its gateway requests grouped per minute and deployment (counts, refusals,
-- networks and clients), and the findings raised on it.
SELECT at, source, what, detail
FROM
(
    SELECT
        ts AS at,
        'idp' AS source,
        type AS what,
        concat(idp, ' ', idp_event_type,
               if(token_id != '', concat(' token ', token_id), ''),
               if(refresh_token_id != '', concat(' refresh ', refresh_token_id), ''),
               if(session_id != '', concat(' session ', session_id), ''),
               if(ip != '', concat(' from ', ip), ''),
               if(reason != '', concat(' (', reason, ')'), '')) AS detail
    FROM token_events
    WHERE token_id = {token:String} OR session_id = {token:String}
       OR refresh_token_id = {token:String} OR parent_refresh_token_id = {token:String}

    UNION ALL

    SELECT
        min(ts) AS at,
        'gateway' AS source,
        if(countIf(auth_error != '') > 0, 'requests, some refused', 'requests') AS what,
        concat(toString(count()), ' requests to ', service, ' ', version, if(track != '', concat(' (', track, ')'), ''),
               ', ', toString(countIf(auth_error != '')), ' refused',
               if(countIf(auth_error != '') > 0, concat(' [', arrayStringConcat(groupUniqArrayIf(3)(auth_error, auth_error != ''), ', '), ']'), ''),
               ', from ', arrayStringConcat(groupUniqArray(3)(client_ip), ' '),
               ' / ', arrayStringConcat(groupUniqArray(2)(user_agent), ' | ')) AS detail
    FROM events
    WHERE jti = {token:String} OR token_fp = {token:String} OR session_id = {token:String}
    GROUP BY toStartOfMinute(ts), service, version, track

    UNION ALL

    SELECT
        detected_at AS at,
        'finding' AS source,
        kind AS what,
        concat(severity, ', action ', action, ': ', summary) AS detail
    FROM findings FINAL
    WHERE jti = {token:String} OR token_fp = {token:String} OR session_id = {token:String}
)
ORDER BY at, source
