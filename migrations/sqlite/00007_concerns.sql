-- Safeguarding concerns: anyone signed in raises one about a request, an offer, a member, a
-- match or in general; coordinators see them before anything else and mark them handled.
-- subject_member_id is the member it is about, resolved by the server; a concern is never shown
-- to them. subject_id has no foreign key: the concern outlives what it is about.

-- +goose Up
CREATE TABLE concerns (
    id                integer PRIMARY KEY AUTOINCREMENT,
    raised_by         integer REFERENCES members (id) ON DELETE SET NULL,
    subject_type      text NOT NULL CHECK (subject_type IN ('general', 'request', 'offer', 'member', 'match')),
    subject_id        integer,
    subject_member_id integer REFERENCES members (id) ON DELETE SET NULL,
    text              text NOT NULL,
    urgent            boolean NOT NULL DEFAULT false,
    created_at        datetime NOT NULL,
    handled_at        datetime,
    handled_by        integer REFERENCES members (id) ON DELETE SET NULL,
    handled_note      text NOT NULL DEFAULT '',
    CHECK (subject_type = 'general' OR subject_id IS NOT NULL)
);
-- Open concerns come first on the coordinators' pages.
CREATE INDEX concerns_open_idx ON concerns (id) WHERE handled_at IS NULL;
CREATE INDEX concerns_raised_by_idx ON concerns (raised_by, id);
CREATE INDEX concerns_subject_member_idx ON concerns (subject_member_id);

-- +goose Down
DROP TABLE concerns;
