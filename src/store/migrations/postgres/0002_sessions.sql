-- Version 2: the OAuth Session extension (expiring access tokens).

ALTER TABLE oauth1_access_tokens
    ADD COLUMN expires_at               BIGINT,  -- unix seconds; NULL: never
    ADD COLUMN session_handle           TEXT,    -- NULL: no session
    ADD COLUMN authorization_expires_at BIGINT,  -- unix seconds
    ADD CHECK (session_handle IS NOT NULL OR authorization_expires_at IS NULL);
