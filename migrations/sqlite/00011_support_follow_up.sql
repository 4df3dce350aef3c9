-- Agreed support nobody has said happened: the helper is asked, then coordinators are told.

-- +goose Up
-- When the helper was asked, after the end, whether it happened.
ALTER TABLE matches ADD COLUMN done_asked_at datetime;
-- When coordinators were told that nobody has said, a week after the end.
ALTER TABLE matches ADD COLUMN overdue_at datetime;

-- +goose Down
ALTER TABLE matches DROP COLUMN overdue_at;
ALTER TABLE matches DROP COLUMN done_asked_at;
