-- The outbox: messages to deliver (email now, webhooks later), written in the same transaction as
-- the change that causes them and delivered by the deliver job; and which emails members want.
-- Times are stored as UTC text, which sorts correctly.

-- +goose Up
CREATE TABLE outbox (
    id              integer PRIMARY KEY AUTOINCREMENT,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- the same on every attempt, so that a receiver that de-duplicates by it sees a message once
    idempotency_key text NOT NULL UNIQUE,
    -- what the message is about: an email kind ('match.proposed') or a webhook event
    kind            text NOT NULL,
    -- the member it is for, so that their messages go when they leave; none for a webhook
    member_id       integer REFERENCES members (id) ON DELETE CASCADE,
    -- an email address or a URL
    recipient       text NOT NULL,
    -- JSON: for an email {"template", "name", "data", "link"}
    payload         text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at datetime NOT NULL,
    -- a deliverer's lease on the message: no other deliverer takes it before then, and a crashed
    -- deliverer's lease runs out
    claimed_until   datetime,
    last_error      text NOT NULL DEFAULT '',
    delivered_at    datetime,
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_finished_idx ON outbox (updated_at) WHERE status <> 'pending';
CREATE INDEX outbox_member_idx ON outbox (member_id);

-- A member's choice about one kind of email. No row means they want it.
CREATE TABLE email_preferences (
    member_id  integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    wants      boolean NOT NULL,
    updated_at datetime NOT NULL,
    PRIMARY KEY (member_id, kind)
);

-- +goose Down
DROP TABLE email_preferences;
DROP TABLE outbox;
