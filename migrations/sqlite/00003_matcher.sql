-- The matcher: helpers' checks, its passes, the matches it proposes, why requests stay
-- unmatched, and notices to coordinators.
-- Times are stored as UTC text, dates as text too ('2027-03-01 00:00:00+00:00'), which sort correctly.

-- +goose Up
-- A verified safeguarding check (e.g. DBS) a member holds: never the disclosure itself.
CREATE TABLE checks (
    id                 integer PRIMARY KEY AUTOINCREMENT,
    member_id          integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind               text NOT NULL,
    level              text NOT NULL DEFAULT '',
    certificate_number text NOT NULL DEFAULT '',
    issued_on          date NOT NULL,
    -- the re-check date: the check counts for requests starting on or before it
    expires_on         date NOT NULL,
    update_service     boolean NOT NULL DEFAULT false,
    verified_by        integer REFERENCES members (id) ON DELETE SET NULL,
    verified_at        datetime NOT NULL,
    created_at         datetime NOT NULL,
    CHECK (expires_on >= issued_on)
);
CREATE INDEX checks_member_idx ON checks (member_id, expires_on);
CREATE INDEX checks_expires_idx ON checks (expires_on);

-- One run of the matcher, with what it found.
CREATE TABLE match_passes (
    id                  integer PRIMARY KEY AUTOINCREMENT,
    started_at          datetime NOT NULL,
    finished_at         datetime NOT NULL,
    duration_ms         integer NOT NULL,
    load_ms             integer NOT NULL,
    solve_ms            integer NOT NULL,
    requests_considered integer NOT NULL,
    helpers_considered  integer NOT NULL,
    helpers_unlocated   integer NOT NULL DEFAULT 0,
    candidate_pairs     integer NOT NULL,
    proposed            integer NOT NULL,
    unmatched           integer NOT NULL,
    expired             integer NOT NULL,
    -- {"<reason code>": n, ...}
    unmatched_reasons   text NOT NULL DEFAULT '{}'
);
CREATE INDEX match_passes_started_idx ON match_passes (started_at);

CREATE TABLE matches (
    id                    integer PRIMARY KEY AUTOINCREMENT,
    request_id            integer NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    offer_id              integer NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    helper_id             integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    source                text NOT NULL CHECK (source IN ('auto', 'manual')),
    status                text NOT NULL CHECK (status IN ('proposed', 'approved', 'accepted', 'completed', 'rejected', 'declined', 'cancelled')),
    score                 real NOT NULL DEFAULT 0,
    -- the reasons in words, as a JSON list of strings
    reasons               text NOT NULL DEFAULT '[]',
    pass_id               integer REFERENCES match_passes (id) ON DELETE SET NULL,
    helper_answered_at    datetime,
    requester_answered_at datetime,
    -- why it was rejected, declined or cancelled
    end_reason            text NOT NULL DEFAULT '',
    created_at            datetime NOT NULL,
    updated_at            datetime NOT NULL
);
-- At most one live match per request, and at most one proposal awaiting each helper's answer.
CREATE UNIQUE INDEX matches_live_request_key ON matches (request_id) WHERE status IN ('proposed', 'approved', 'accepted');
CREATE UNIQUE INDEX matches_awaiting_helper_key ON matches (helper_id)
    WHERE status = 'proposed' OR (status = 'approved' AND helper_answered_at IS NULL);
CREATE INDEX matches_helper_idx ON matches (helper_id, status);
CREATE INDEX matches_offer_idx ON matches (offer_id) WHERE status IN ('proposed', 'approved', 'accepted');
CREATE INDEX matches_pass_idx ON matches (pass_id);
CREATE INDEX matches_proposed_idx ON matches (created_at, id) WHERE status = 'proposed';

-- Why each open request was left unmatched by the latest pass that considered it.
CREATE TABLE unmatched_requests (
    request_id integer PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    pass_id    integer REFERENCES match_passes (id) ON DELETE SET NULL,
    code       text NOT NULL,
    reason     text NOT NULL,
    updated_at datetime NOT NULL
);
CREATE INDEX unmatched_requests_code_idx ON unmatched_requests (code);

-- Something coordinators should know, shown in the coordinators' pages.
CREATE TABLE notices (
    id         integer PRIMARY KEY AUTOINCREMENT,
    audience   text NOT NULL CHECK (audience IN ('coordinators')),
    kind       text NOT NULL,
    message    text NOT NULL,
    link       text NOT NULL DEFAULT '',
    created_at datetime NOT NULL
);
CREATE INDEX notices_audience_idx ON notices (audience, created_at);

-- +goose Down
DROP TABLE notices;
DROP TABLE unmatched_requests;
DROP TABLE matches;
DROP TABLE match_passes;
DROP TABLE checks;
