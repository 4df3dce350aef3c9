-- The foundation: members and how they sign in, areas and categories, the audit log.
-- Times are stored as UTC text ('2006-01-02 15:04:05.999999999+00:00'), which sorts correctly.

-- +goose Up
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at datetime NOT NULL
);

CREATE TABLE areas (
    id         integer PRIMARY KEY AUTOINCREMENT,
    name       text NOT NULL,
    code       text NOT NULL,
    lat        real NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon        real NOT NULL CHECK (lon BETWEEN -180 AND 180),
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX areas_code_key ON areas (upper(code));
CREATE UNIQUE INDEX areas_name_key ON areas (lower(name));

CREATE TABLE categories (
    id             integer PRIMARY KEY AUTOINCREMENT,
    slug           text NOT NULL UNIQUE,
    name           text NOT NULL,
    requires_check boolean NOT NULL DEFAULT false,
    taxonomy_terms text NOT NULL DEFAULT '[]',
    created_at     datetime NOT NULL,
    updated_at     datetime NOT NULL
);

CREATE TABLE members (
    id              integer PRIMARY KEY AUTOINCREMENT,
    name            text NOT NULL,
    email           text,
    phone           text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('member', 'coordinator', 'services', 'admin')),
    status          text NOT NULL CHECK (status IN ('applicant', 'active', 'declined', 'suspended', 'left')),
    area_id         integer REFERENCES areas (id) ON DELETE RESTRICT,
    password_hash   text NOT NULL DEFAULT '',
    join_reason     text NOT NULL DEFAULT '',
    decision_reason text NOT NULL DEFAULT '',
    decided_by      integer REFERENCES members (id) ON DELETE SET NULL,
    decided_at      datetime,
    added_by        integer REFERENCES members (id) ON DELETE SET NULL,
    -- name, email and phone folded to lower case by the application, for searching the list
    search_key      text NOT NULL DEFAULT '',
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
-- Emails are unique whatever their case; people added by phone may have none.
CREATE UNIQUE INDEX members_email_key ON members (lower(email));
CREATE INDEX members_status_idx ON members (status, id);
CREATE INDEX members_area_idx ON members (area_id);

CREATE TABLE consents (
    id           integer PRIMARY KEY AUTOINCREMENT,
    member_id    integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    wording      text NOT NULL,
    given_at     datetime NOT NULL,
    recorded_by  integer REFERENCES members (id) ON DELETE SET NULL,
    withdrawn_at datetime
);
CREATE INDEX consents_member_idx ON consents (member_id);

CREATE TABLE sessions (
    id           integer PRIMARY KEY AUTOINCREMENT,
    token_hash   text NOT NULL UNIQUE,
    member_id    integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at   datetime NOT NULL,
    last_seen_at datetime NOT NULL,
    expires_at   datetime NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_member_idx ON sessions (member_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           integer PRIMARY KEY AUTOINCREMENT,
    member_id    integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    created_by   integer REFERENCES members (id) ON DELETE SET NULL,
    created_at   datetime NOT NULL,
    last_used_at datetime,
    revoked_at   datetime
);
CREATE INDEX api_tokens_member_idx ON api_tokens (member_id);

CREATE TABLE audit_events (
    id           integer PRIMARY KEY AUTOINCREMENT,
    at           datetime NOT NULL,
    actor_id     integer,
    actor_name   text NOT NULL DEFAULT '',
    action       text NOT NULL,
    subject_type text NOT NULL DEFAULT '',
    subject_id   integer,
    ip           text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    detail       text NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id, id);

CREATE TABLE rate_limit_hits (
    id  integer PRIMARY KEY AUTOINCREMENT,
    key text NOT NULL,
    at  datetime NOT NULL
);
CREATE INDEX rate_limit_hits_key_idx ON rate_limit_hits (key, at);
CREATE INDEX rate_limit_hits_at_idx ON rate_limit_hits (at);

INSERT INTO categories (slug, name, requires_check, created_at, updated_at) VALUES
    ('sitting', 'Sitting with a child or an older person', true, strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')),
    ('transport', 'Transport and lifts', false, strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')),
    ('companionship', 'Companionship', false, strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')),
    ('shopping-errands', 'Shopping and errands', false, strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')),
    ('befriending-calls', 'Befriending calls', false, strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'));

-- +goose Down
DROP TABLE rate_limit_hits;
DROP TABLE audit_events;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE consents;
DROP TABLE members;
DROP TABLE categories;
DROP TABLE areas;
DROP TABLE settings;
