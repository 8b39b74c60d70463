-- Version 2: the OAuth Session extension (expiring access tokens).

ALTER TABLE oauth1_access_tokens ADD COLUMN expires_at INTEGER;       -- unix seconds; NULL: never
ALTER TABLE oauth1_access_tokens ADD COLUMN session_handle TEXT;      -- NULL: no session
ALTER TABLE oauth1_access_tokens ADD COLUMN authorization_expires_at INTEGER; -- unix seconds
