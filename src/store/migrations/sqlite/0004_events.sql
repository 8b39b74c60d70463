-- Version 4: the audit trail (`EventStore`), kept for a while and purged by
-- age. No secret is ever written here: a token appears as its first
-- characters only.

CREATE TABLE oauth1_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order appended
    at           INTEGER NOT NULL,                   -- unix seconds
    kind         TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    consumer_key TEXT,                               -- for a refusal, as the client sent it
    user_id      TEXT,
    token_prefix TEXT,
    peer         TEXT                                -- an IP address, for a refusal
);
CREATE INDEX oauth1_events_at ON oauth1_events (at);
CREATE INDEX oauth1_events_user ON oauth1_events (user_id, at);
