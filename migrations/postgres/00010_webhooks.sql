-- Webhooks in the outbox: the formal service a webhook message is for, so that the deliverer can
-- sign it with that service's secret when it sends it. No foreign key: the services table comes in
-- its own migration, and a message is kept as a record of what was sent even if its service goes.

-- +goose Up
ALTER TABLE outbox ADD COLUMN service_id bigint;

-- +goose Down
ALTER TABLE outbox DROP COLUMN service_id;
