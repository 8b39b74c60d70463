-- Version 3: counting a consumer's unexpired request tokens (the cap on
-- outstanding request tokens) reads an index, not the table.

CREATE INDEX oauth1_request_tokens_consumer ON oauth1_request_tokens (consumer_key, expires_at);
