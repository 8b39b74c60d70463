-- Version 1: request tokens, access tokens and nonces. Client-supplied free
-- text (callback, scope, display name) is BYTEA holding UTF-8: a client can
-- send a NUL byte, which TEXT cannot hold.

CREATE TABLE oauth1_request_tokens (
    token            TEXT    NOT NULL PRIMARY KEY,
    secret           TEXT    NOT NULL,
    consumer_key     TEXT    NOT NULL,
    host             TEXT    NOT NULL,
    callback         BYTEA,            -- NULL: out of band (`oob`)
    scope            BYTEA,
    display_name     BYTEA,
    created_at       BIGINT  NOT NULL, -- unix seconds
    expires_at       BIGINT  NOT NULL, -- unix seconds
    state            TEXT    NOT NULL
        CHECK (state IN ('issued', 'authorized', 'exchanged', 'denied', 'burned')),
    user_email       TEXT,
    user_id          TEXT,
    user_admin       BOOLEAN,
    user_auth_domain TEXT,
    verifier         TEXT,
    failed_attempts  BIGINT  NOT NULL DEFAULT 0,
    CHECK ((state = 'authorized') = (user_email IS NOT NULL AND user_id IS NOT NULL
        AND user_admin IS NOT NULL AND user_auth_domain IS NOT NULL AND verifier IS NOT NULL)),
    CHECK (state = 'authorized' OR failed_attempts = 0)
);
CREATE INDEX oauth1_request_tokens_expires_at ON oauth1_request_tokens (expires_at);

CREATE TABLE oauth1_access_tokens (
    token            TEXT    NOT NULL PRIMARY KEY,
    secret           TEXT    NOT NULL,
    consumer_key     TEXT    NOT NULL,
    host             TEXT    NOT NULL,
    user_email       TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    user_admin       BOOLEAN NOT NULL,
    user_auth_domain TEXT    NOT NULL,
    scope            BYTEA,
    created_at       BIGINT  NOT NULL, -- unix seconds
    revoked_at       BIGINT            -- unix seconds; NULL while active
);
CREATE INDEX oauth1_access_tokens_active_user
    ON oauth1_access_tokens (user_id, consumer_key, created_at) WHERE revoked_at IS NULL;

-- A nonce is remembered by the SHA-256 of its length-prefixed key
-- (consumer, token, timestamp, nonce): fixed size whatever the client sent.
CREATE TABLE oauth1_nonces (
    key        BYTEA   NOT NULL PRIMARY KEY,
    expires_at BIGINT  NOT NULL        -- unix seconds
);
CREATE INDEX oauth1_nonces_expires_at ON oauth1_nonces (expires_at);
