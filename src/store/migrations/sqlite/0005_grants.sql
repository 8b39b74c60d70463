-- Version 5: grants (`Granted`, `Consumer::grants`).
--
-- Each `grants` column holds names separated by single spaces; NULL is App
-- Engine's whole-app scope, which every earlier token and consumer keeps.

ALTER TABLE oauth1_request_tokens ADD COLUMN grants TEXT;
ALTER TABLE oauth1_access_tokens ADD COLUMN grants TEXT;
ALTER TABLE oauth1_consumers ADD COLUMN grants TEXT;
