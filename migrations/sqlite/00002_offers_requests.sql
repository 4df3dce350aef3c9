-- Offers and requests of support, series of weekly requests, and synthetic members for load tests.
-- Times are stored as UTC text ('2006-01-02 15:04:05.999999999+00:00'), which sorts correctly.

-- +goose Up
ALTER TABLE members ADD COLUMN synthetic boolean NOT NULL DEFAULT false;

CREATE TABLE offers (
    id           integer PRIMARY KEY AUTOINCREMENT,
    member_id    integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    category_id  integer NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    description  text NOT NULL,
    -- weekly slots as JSON, [{"day":"tue","from":"13:00","to":"17:00"}], in the co-op's time zone
    slots        text NOT NULL,
    -- bit d is set when a slot falls on weekday d (0 = Sunday), for filtering by day
    slot_days    integer NOT NULL,
    radius_km    real NOT NULL CHECK (radius_km BETWEEN 0.5 AND 50),
    max_per_week integer NOT NULL CHECK (max_per_week BETWEEN 1 AND 21),
    status       text NOT NULL CHECK (status IN ('active', 'paused', 'withdrawn')),
    search_text  text NOT NULL DEFAULT '',
    created_by   integer REFERENCES members (id) ON DELETE SET NULL,
    created_at   datetime NOT NULL,
    updated_at   datetime NOT NULL
);
CREATE INDEX offers_member_idx ON offers (member_id, id);
CREATE INDEX offers_active_newest_idx ON offers (created_at, id) WHERE status = 'active';
CREATE INDEX offers_active_category_idx ON offers (category_id, created_at, id) WHERE status = 'active';

CREATE TABLE request_series (
    id         integer PRIMARY KEY AUTOINCREMENT,
    member_id  integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    weeks      integer NOT NULL CHECK (weeks BETWEEN 2 AND 26),
    created_at datetime NOT NULL
);

CREATE TABLE requests (
    id                    integer PRIMARY KEY AUTOINCREMENT,
    member_id             integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    category_id           integer NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    area_id               integer NOT NULL REFERENCES areas (id) ON DELETE RESTRICT,
    series_id             integer REFERENCES request_series (id) ON DELETE SET NULL,
    description           text NOT NULL,
    -- address, access, what to bring: shown only to the requester, coordinators and (later) an agreed helper
    private_notes         text NOT NULL DEFAULT '',
    for_whom_name         text,
    for_whom_relationship text,
    start_at              datetime NOT NULL,
    end_at                datetime NOT NULL,
    urgency               text NOT NULL CHECK (urgency IN ('routine', 'soon', 'urgent')),
    needs_check           boolean NOT NULL DEFAULT false,
    -- the separate consent to pass the need to formal services, with its wording and time
    escalation_consent_wording      text,
    escalation_consent_contact      boolean NOT NULL DEFAULT false,
    escalation_consent_at           datetime,
    escalation_consent_withdrawn_at datetime,
    status                text NOT NULL CHECK (status IN ('open', 'matched', 'fulfilled', 'escalated', 'cancelled', 'expired')),
    cancel_reason         text NOT NULL DEFAULT '',
    search_text           text NOT NULL DEFAULT '',
    created_by            integer REFERENCES members (id) ON DELETE SET NULL,
    created_at            datetime NOT NULL,
    updated_at            datetime NOT NULL,
    CHECK (end_at > start_at)
);
CREATE INDEX requests_member_idx ON requests (member_id, start_at, id);
CREATE INDEX requests_series_idx ON requests (series_id);
CREATE INDEX requests_open_soonest_idx ON requests (start_at, id) WHERE status = 'open';
CREATE INDEX requests_open_newest_idx ON requests (created_at, id) WHERE status = 'open';
CREATE INDEX requests_open_category_area_soonest_idx ON requests (category_id, area_id, start_at, id) WHERE status = 'open';
CREATE INDEX requests_open_category_area_newest_idx ON requests (category_id, area_id, created_at, id) WHERE status = 'open';
CREATE INDEX requests_open_area_soonest_idx ON requests (area_id, start_at, id) WHERE status = 'open';

-- +goose Down
DROP TABLE requests;
DROP TABLE request_series;
DROP TABLE offers;
ALTER TABLE members DROP COLUMN synthetic;
