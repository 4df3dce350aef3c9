-- Named locks for databases without advisory locks, and an index for when helpers were last
-- proposed.

-- +goose Up
-- A lock held by one process at a time until it is given back or its lease runs out. SQLite
-- uses it; PostgreSQL has advisory locks, which end with the session that holds them.
CREATE TABLE locks (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at datetime NOT NULL
);
-- A pass reads when each helper was last proposed, over the past four weeks.
CREATE INDEX matches_created_idx ON matches (created_at);

-- +goose Down
DROP INDEX matches_created_idx;
DROP TABLE locks;
