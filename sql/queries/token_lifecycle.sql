-- The current lifecycle of a token, by jti, token fingerprint or store key, or of every
-- token of a session or refresh family.
SELECT
    token_key, token_fp, jti, session_id, family, subject, client_id, state,
    issued_at, first_use_at, last_use_at, exp, revoked_at, revoked_by,
    uses, failures, distinct_clients, updated_at
FROM token_lifecycles FINAL
WHERE token_key = {token:String} OR jti = {token:String} OR token_fp = {token:String}
   OR session_id = {token:String} OR family = {token:String}
ORDER BY coalesce(issued_at, first_use_at), token_key
