-- Version 3: consumers as managed data (`ConsumerStore`).
--
-- A deleted consumer stays as a row in state `deleted`, its secret and key
-- material wiped, so that its key is never registered again (its tokens
-- can never come back to life under a new registration).

CREATE TABLE oauth1_consumers (
    key                TEXT    NOT NULL PRIMARY KEY,
    secret             TEXT    NOT NULL,  -- '' for an RSA consumer or a deleted one
    rsa_public_key     TEXT,              -- PEM (SubjectPublicKeyInfo)
    display_name       TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    homepage           TEXT,
    owner              TEXT,              -- a user id
    state              TEXT    NOT NULL
        CHECK (state IN ('proposed', 'approved', 'rejected', 'disabled', 'deleted')),
    revision           BIGINT  NOT NULL,
    callback_prefixes  TEXT    NOT NULL,  -- one per line
    signature_methods  TEXT    NOT NULL,  -- names, one per line
    two_legged         BOOLEAN NOT NULL,
    requestor_domains  TEXT    NOT NULL,  -- one per line
    body_hash_required BOOLEAN NOT NULL,
    unverified         BOOLEAN NOT NULL
);
CREATE INDEX oauth1_consumers_owner ON oauth1_consumers (owner);
CREATE INDEX oauth1_request_tokens_consumer ON oauth1_request_tokens (consumer_key);
CREATE INDEX oauth1_access_tokens_consumer ON oauth1_access_tokens (consumer_key)
    WHERE revoked_at IS NULL;
