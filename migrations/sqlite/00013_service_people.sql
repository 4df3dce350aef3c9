-- The people and programs of a formal service that answer its escalations.
--
-- service_members: which services a `services` user (a member row with that role) works for;
-- one person may answer for several services, and a service may have several people. They see
-- only the escalations sent to their services.
--
-- service_tokens: API tokens for a service's own systems, acting for the service and no person.
-- Only the SHA-256 of each token is kept (the token is shown once, when made); a revoked token
-- stays, as a record of what could act for the service, until its service is removed.

-- +goose Up
CREATE TABLE service_members (
    service_id integer NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    member_id  integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    added_by   integer REFERENCES members (id) ON DELETE SET NULL,
    added_at   datetime NOT NULL,
    PRIMARY KEY (service_id, member_id)
);
CREATE INDEX service_members_member_idx ON service_members (member_id);

CREATE TABLE service_tokens (
    id           integer PRIMARY KEY AUTOINCREMENT,
    service_id   integer NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    created_by   integer REFERENCES members (id) ON DELETE SET NULL,
    created_at   datetime NOT NULL,
    last_used_at datetime,
    revoked_at   datetime
);
CREATE INDEX service_tokens_service_idx ON service_tokens (service_id);

-- +goose Down
DROP TABLE service_tokens;
DROP TABLE service_members;
