-- Escalation to formal services: each escalation of a request to a service, its history, and
-- which due requests coordinators were told cannot leave the co-op.

-- +goose Up
CREATE TABLE escalations (
    id              integer PRIMARY KEY AUTOINCREMENT,
    request_id      integer NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    service_id      integer NOT NULL REFERENCES services (id),
    -- the FHIR Task status; "acknowledged" is a business status
    status          text NOT NULL CHECK (status IN ('draft', 'requested', 'accepted', 'rejected', 'in-progress', 'on-hold',
                                                    'completed', 'failed', 'cancelled', 'entered-in-error')),
    business_status text NOT NULL DEFAULT '',
    -- why it was escalated, in words
    reason          text NOT NULL,
    -- the service's reason for a rejection, or the co-op's for a cancellation
    status_reason   text NOT NULL DEFAULT '',
    outcome         text NOT NULL DEFAULT '',
    respond_by      datetime,
    sent_at         datetime,
    created_by      integer REFERENCES members (id) ON DELETE SET NULL,
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL,
    -- coordinators were told that the service had not answered by the respond-by time
    overdue_alerted_at datetime,
    UNIQUE (request_id, service_id)
);
-- At most one escalation of a request open at a time.
CREATE UNIQUE INDEX escalations_open_request_key ON escalations (request_id)
    WHERE status IN ('draft', 'requested', 'accepted', 'in-progress', 'on-hold');
CREATE INDEX escalations_service_idx ON escalations (service_id, status);
CREATE INDEX escalations_updated_idx ON escalations (updated_at);

-- Every change of an escalation, with who, when and why.
CREATE TABLE escalation_history (
    id              integer PRIMARY KEY AUTOINCREMENT,
    escalation_id   integer NOT NULL REFERENCES escalations (id) ON DELETE CASCADE,
    at              datetime NOT NULL,
    status          text NOT NULL,
    business_status text NOT NULL DEFAULT '',
    side            text NOT NULL CHECK (side IN ('coop', 'service')),
    by_id           integer REFERENCES members (id) ON DELETE SET NULL,
    by_name         text NOT NULL,
    note            text NOT NULL DEFAULT ''
);
CREATE INDEX escalation_history_escalation_idx ON escalation_history (escalation_id, at);

-- When coordinators were told that a due request cannot be passed on (no consent, nowhere to go).
ALTER TABLE requests ADD COLUMN escalation_alerted_at datetime;

-- +goose Down
ALTER TABLE requests DROP COLUMN escalation_alerted_at;
DROP TABLE escalation_history;
DROP TABLE escalations;
