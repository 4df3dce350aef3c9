-- Keeping posts fresh: an offer the helper has not confirmed for a while is asked about ("is it
-- still available?") and paused if nobody answers; a member whose check is due for renewal is
-- told once.
-- confirmed_at: when the helper last said the offer stands (posting, editing, resuming and
-- confirming all count); existing offers count from their last change.
-- stale_asked_at: when the "still available?" message went; NULL when nothing is asked. The
-- one-click link is signed over it, so that a link from an earlier ask no longer works.
-- due_notified_at: when the member was told their check is due for renewal, so that it is once.

-- +goose Up
ALTER TABLE offers ADD COLUMN confirmed_at timestamptz;
ALTER TABLE offers ADD COLUMN stale_asked_at timestamptz;
UPDATE offers SET confirmed_at = updated_at;
ALTER TABLE offers ALTER COLUMN confirmed_at SET NOT NULL;
-- The freshness job looks for active offers by these two times.
CREATE INDEX offers_active_confirmed_idx ON offers (confirmed_at) WHERE status = 'active' AND stale_asked_at IS NULL;
CREATE INDEX offers_active_asked_idx ON offers (stale_asked_at) WHERE status = 'active' AND stale_asked_at IS NOT NULL;
ALTER TABLE checks ADD COLUMN due_notified_at timestamptz;

-- +goose Down
ALTER TABLE checks DROP COLUMN due_notified_at;
DROP INDEX offers_active_asked_idx;
DROP INDEX offers_active_confirmed_idx;
ALTER TABLE offers DROP COLUMN stale_asked_at;
ALTER TABLE offers DROP COLUMN confirmed_at;
