-- The directory of formal services that needs the community cannot meet are escalated to, and
-- the log of imports from Open Referral (HSDS 3.x / Open Referral UK) directories.
--
-- services: a formal service, typed in by a coordinator (source 'manual') or imported (source
-- 'hsds' for HSDS 3.x / ORUK 3.0 records, 'oruk1' for the older ORUK v1 feeds). source_id is
-- the directory's own id, unique when not empty, so that a re-import finds the same row.
-- The directory's fields (organisation, name, description, directory_terms, ages, eligibility,
-- directory_email, last_modified) are rewritten by a re-import; the coordinator's fields
-- (email and webhook_url: the escalation contact; priority; active; the service's areas; the
-- terms a coordinator added to taxonomy_terms) are never touched by one. A directory's email
-- is not assumed to accept referrals, so it is kept apart, as directory_email, and an imported
-- service has no escalation contact until a coordinator sets one.
-- taxonomy_terms (what routing reads) and directory_terms are JSON lists of term codes or URIs.
-- min_age and max_age are NULL when the service states none.
-- webhook_secret is kept as it is, not hashed and not encrypted: the platform must read it to
-- sign each webhook (HMAC-SHA256), so a hash would not do, and encrypting it with the
-- platform's secret key would protect nothing by default, since that key is itself kept in the
-- settings table of this database when COOP_SECRET_KEY is unset. It is shown to the
-- coordinator once, when made (or made anew), and never sent out again.
-- fallback: the service escalations go to when no other covers a need; at most one.
--
-- service_areas: which of the co-op's areas a service covers.
--
-- service_imports: one row per import, with its counts, so that the next import from the same
-- feed asks only for what changed since (modified_after = fetched_at of the last one).
--
-- The seeded categories get default LGA service types (Local Government Service List, the
-- "esdServiceType" taxonomy that Open Referral UK uses; codes and labels as published in the
-- LGA's list of services, id.esd.org.uk/service/N; 298 is also the code in the standards'
-- escalation example), only where a coordinator has set no terms yet:
--   sitting           242 Care at home, 225 Adult carers, 298 Carers support groups
--   transport         272 Community transport ("dial-a-ride, shopmobility, community bus and car schemes")
--   companionship     297 Community support groups and organisations, 296 Community and day centres
--   befriending-calls 297 Community support groups and organisations (the list has no
--                     befriending service type of its own)
--   shopping-errands  242 Care at home ("practical daily tasks such as ... domestic chores"), 272
--                     Community transport (shopmobility)
-- Each is given both as a CURIE and as its URI, the two ways directories write them.

-- +goose Up
CREATE TABLE services (
    id                      integer PRIMARY KEY AUTOINCREMENT,
    source                  text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'hsds', 'oruk1')),
    source_id               text NOT NULL DEFAULT '',
    organisation            text NOT NULL DEFAULT '',
    name                    text NOT NULL,
    description             text NOT NULL DEFAULT '',
    taxonomy_terms          text NOT NULL DEFAULT '[]',
    directory_terms         text NOT NULL DEFAULT '[]',
    min_age                 integer CHECK (min_age BETWEEN 0 AND 120),
    max_age                 integer CHECK (max_age BETWEEN 0 AND 120),
    eligibility_description text NOT NULL DEFAULT '',
    priority                integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
    email                   text NOT NULL DEFAULT '',
    directory_email         text NOT NULL DEFAULT '',
    webhook_url             text NOT NULL DEFAULT '',
    webhook_secret          text NOT NULL DEFAULT '',
    active                  boolean NOT NULL DEFAULT true,
    fallback                boolean NOT NULL DEFAULT false,
    last_modified           datetime,
    created_at              datetime NOT NULL,
    updated_at              datetime NOT NULL,
    CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
);
CREATE UNIQUE INDEX services_source_id_key ON services (source_id) WHERE source_id <> '';
-- At most one fallback: the index holds only the row marked as one, so a second cannot be added.
CREATE UNIQUE INDEX services_one_fallback ON services (fallback) WHERE fallback;

CREATE TABLE service_areas (
    service_id integer NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    area_id    integer NOT NULL REFERENCES areas (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, area_id)
);
CREATE INDEX service_areas_area_idx ON service_areas (area_id);

CREATE TABLE service_imports (
    id         integer PRIMARY KEY AUTOINCREMENT,
    source     text NOT NULL,
    format     text NOT NULL DEFAULT '',
    feed       boolean NOT NULL DEFAULT false,
    fetched_at datetime NOT NULL,
    imported   integer NOT NULL DEFAULT 0,
    updated    integer NOT NULL DEFAULT 0,
    unchanged  integer NOT NULL DEFAULT 0,
    skipped    integer NOT NULL DEFAULT 0,
    actor_name text NOT NULL DEFAULT ''
);
CREATE INDEX service_imports_source_idx ON service_imports (source, fetched_at);

UPDATE categories SET taxonomy_terms = '["esdServiceType:242","esdServiceType:225","esdServiceType:298","http://id.esd.org.uk/service/242","http://id.esd.org.uk/service/225","http://id.esd.org.uk/service/298"]'
    WHERE slug = 'sitting' AND taxonomy_terms = '[]';
UPDATE categories SET taxonomy_terms = '["esdServiceType:272","http://id.esd.org.uk/service/272"]'
    WHERE slug = 'transport' AND taxonomy_terms = '[]';
UPDATE categories SET taxonomy_terms = '["esdServiceType:297","esdServiceType:296","http://id.esd.org.uk/service/297","http://id.esd.org.uk/service/296"]'
    WHERE slug = 'companionship' AND taxonomy_terms = '[]';
UPDATE categories SET taxonomy_terms = '["esdServiceType:297","http://id.esd.org.uk/service/297"]'
    WHERE slug = 'befriending-calls' AND taxonomy_terms = '[]';
UPDATE categories SET taxonomy_terms = '["esdServiceType:242","esdServiceType:272","http://id.esd.org.uk/service/242","http://id.esd.org.uk/service/272"]'
    WHERE slug = 'shopping-errands' AND taxonomy_terms = '[]';

-- +goose Down
DROP TABLE service_imports;
DROP TABLE service_areas;
DROP TABLE services;
