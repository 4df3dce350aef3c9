-- Escalation timings per category: how long an unmet request may wait after it was posted, and
-- how long before it starts it must be passed on, by urgency. NULL follows the co-op's default
-- (urgent 2h / 12h, soon 24h / 24h, routine 72h / 48h); minutes, up to 30 days. A request must
-- wait at least a minute, so that the community always has a chance; the lead may be none.

-- +goose Up
ALTER TABLE categories ADD COLUMN escalation_urgent_wait_minutes integer
    CHECK (escalation_urgent_wait_minutes BETWEEN 1 AND 43200);
ALTER TABLE categories ADD COLUMN escalation_urgent_lead_minutes integer
    CHECK (escalation_urgent_lead_minutes BETWEEN 0 AND 43200);
ALTER TABLE categories ADD COLUMN escalation_soon_wait_minutes integer
    CHECK (escalation_soon_wait_minutes BETWEEN 1 AND 43200);
ALTER TABLE categories ADD COLUMN escalation_soon_lead_minutes integer
    CHECK (escalation_soon_lead_minutes BETWEEN 0 AND 43200);
ALTER TABLE categories ADD COLUMN escalation_routine_wait_minutes integer
    CHECK (escalation_routine_wait_minutes BETWEEN 1 AND 43200);
ALTER TABLE categories ADD COLUMN escalation_routine_lead_minutes integer
    CHECK (escalation_routine_lead_minutes BETWEEN 0 AND 43200);

-- +goose Down
ALTER TABLE categories DROP COLUMN escalation_routine_lead_minutes;
ALTER TABLE categories DROP COLUMN escalation_routine_wait_minutes;
ALTER TABLE categories DROP COLUMN escalation_soon_lead_minutes;
ALTER TABLE categories DROP COLUMN escalation_soon_wait_minutes;
ALTER TABLE categories DROP COLUMN escalation_urgent_lead_minutes;
ALTER TABLE categories DROP COLUMN escalation_urgent_wait_minutes;
