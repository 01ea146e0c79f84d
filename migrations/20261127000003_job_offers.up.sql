-- Offers go draft → published → archived; only published ones are public.
CREATE TYPE job_offer_status AS ENUM ('draft', 'published', 'archived');

CREATE TABLE job_offers (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id    BIGINT           NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    title         TEXT             NOT NULL,
    description   TEXT             NOT NULL DEFAULT '',
    location      TEXT,
    remote        BOOLEAN          NOT NULL DEFAULT false,
    salary_min    INTEGER,
    salary_max    INTEGER,
    status        job_offer_status NOT NULL DEFAULT 'draft',
    published_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ      NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT job_offers_title_length CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    CONSTRAINT job_offers_salary_positive CHECK (salary_min IS NULL OR salary_min >= 0),
    CONSTRAINT job_offers_salary_range CHECK (salary_min IS NULL OR salary_max IS NULL OR salary_max >= salary_min),
    -- A draft was never published; anything else was.
    CONSTRAINT job_offers_published_at_matches_status CHECK ((status = 'draft') = (published_at IS NULL))
);

CREATE INDEX job_offers_company_id_idx ON job_offers (company_id);
-- The public listing: newest published first, keyset-paginated on (published_at, id).
CREATE INDEX job_offers_published_idx ON job_offers (published_at DESC, id DESC) WHERE status = 'published';
