-- Employers publish offers on behalf of a company.
CREATE TABLE companies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    name        TEXT        NOT NULL,
    slug        TEXT        NOT NULL,
    website     TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT companies_slug_key UNIQUE (slug),
    CONSTRAINT companies_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT companies_name_present CHECK (length(btrim(name)) > 0),
    CONSTRAINT companies_website_http CHECK (website IS NULL OR website ~ '^https?://')
);

-- Foreign keys are not indexed by PostgreSQL itself: "my companies" and owner deletes need it.
CREATE INDEX companies_owner_id_idx ON companies (owner_id);
