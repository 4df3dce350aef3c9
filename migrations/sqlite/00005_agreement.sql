-- After the matcher: coordinators moderate, both people agree, support happens and is recorded.

-- +goose Up
-- Per category: proposals wait for a coordinator, or go straight to the two people.
ALTER TABLE categories ADD COLUMN moderation text NOT NULL DEFAULT 'coordinator'
    CHECK (moderation IN ('coordinator', 'direct'));
-- A phone call to someone lonely is low-risk: its proposals go straight to the two people.
UPDATE categories SET moderation = 'direct' WHERE slug = 'befriending-calls';

-- Who approved a match and until when the two people have to answer.
ALTER TABLE matches ADD COLUMN approved_by integer REFERENCES members (id) ON DELETE SET NULL;
ALTER TABLE matches ADD COLUMN approved_at datetime;
ALTER TABLE matches ADD COLUMN answer_by datetime;
ALTER TABLE matches ADD COLUMN accepted_at datetime;
-- Who ended it (rejected, declined, cancelled), when; 0 or NULL for the platform.
ALTER TABLE matches ADD COLUMN ended_by integer REFERENCES members (id) ON DELETE SET NULL;
ALTER TABLE matches ADD COLUMN ended_at datetime;
-- The helper's word that it happened, with the minutes they gave, and the requester's
-- confirmation (or correction); confirmed_by is NULL when it was confirmed by silence.
ALTER TABLE matches ADD COLUMN done_at datetime;
ALTER TABLE matches ADD COLUMN minutes_claimed integer;
ALTER TABLE matches ADD COLUMN minutes_confirmed integer;
ALTER TABLE matches ADD COLUMN confirmed_at datetime;
ALTER TABLE matches ADD COLUMN confirmed_by integer REFERENCES members (id) ON DELETE SET NULL;
-- The day-before reminder, sent once.
ALTER TABLE matches ADD COLUMN reminded_at datetime;
CREATE INDEX matches_answer_by_idx ON matches (answer_by) WHERE status = 'approved';
CREATE INDEX matches_accepted_idx ON matches (status, done_at) WHERE status = 'accepted';

-- Private feedback on a match from one person about the other: only coordinators see it.
CREATE TABLE feedback (
    id         integer PRIMARY KEY AUTOINCREMENT,
    match_id   integer NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    from_id    integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    about_id   integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    rating     integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    text NOT NULL DEFAULT '',
    created_at datetime NOT NULL,
    UNIQUE (match_id, from_id)
);
CREATE INDEX feedback_about_idx ON feedback (about_id);

-- What a completed match gave: one record per match, the basis of members' statements.
CREATE TABLE contributions (
    id           integer PRIMARY KEY AUTOINCREMENT,
    match_id     integer NOT NULL UNIQUE REFERENCES matches (id) ON DELETE CASCADE,
    helper_id    integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    requester_id integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    category_id  integer NOT NULL REFERENCES categories (id),
    minutes      integer NOT NULL CHECK (minutes > 0),
    -- the day the support was given, in the co-op's time zone
    given_on     date NOT NULL,
    created_at   datetime NOT NULL
);
CREATE INDEX contributions_helper_idx ON contributions (helper_id, given_on);
CREATE INDEX contributions_requester_idx ON contributions (requester_id, given_on);
CREATE INDEX contributions_given_idx ON contributions (given_on);

-- A member's in-app notifications: each names something to act on or to know.
CREATE TABLE notifications (
    id         integer PRIMARY KEY AUTOINCREMENT,
    member_id  integer NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    message    text NOT NULL,
    link       text NOT NULL DEFAULT '',
    created_at datetime NOT NULL,
    read_at    datetime
);
CREATE INDEX notifications_member_idx ON notifications (member_id, created_at);
CREATE INDEX notifications_unread_idx ON notifications (member_id) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;
DROP TABLE contributions;
DROP TABLE feedback;
DROP INDEX matches_accepted_idx;
DROP INDEX matches_answer_by_idx;
ALTER TABLE matches DROP COLUMN reminded_at;
ALTER TABLE matches DROP COLUMN confirmed_by;
ALTER TABLE matches DROP COLUMN confirmed_at;
ALTER TABLE matches DROP COLUMN minutes_confirmed;
ALTER TABLE matches DROP COLUMN minutes_claimed;
ALTER TABLE matches DROP COLUMN done_at;
ALTER TABLE matches DROP COLUMN ended_at;
ALTER TABLE matches DROP COLUMN ended_by;
ALTER TABLE matches DROP COLUMN accepted_at;
ALTER TABLE matches DROP COLUMN answer_by;
ALTER TABLE matches DROP COLUMN approved_at;
ALTER TABLE matches DROP COLUMN approved_by;
ALTER TABLE categories DROP COLUMN moderation;
