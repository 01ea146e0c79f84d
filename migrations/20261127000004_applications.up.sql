-- A candidate applies to an offer once; employers move the application along.
CREATE TYPE application_status AS ENUM ('submitted', 'reviewing', 'interview', 'offered', 'hired', 'rejected', 'withdrawn');

CREATE TABLE applications (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_offer_id  BIGINT             NOT NULL REFERENCES job_offers (id) ON DELETE CASCADE,
    candidate_id  BIGINT             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status        application_status NOT NULL DEFAULT 'submitted',
    cover_letter  TEXT,
    created_at    TIMESTAMPTZ        NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ        NOT NULL DEFAULT now(),
    CONSTRAINT applications_candidate_offer_key UNIQUE (candidate_id, job_offer_id),
    CONSTRAINT applications_cover_letter_length CHECK (cover_letter IS NULL OR length(cover_letter) <= 10000)
);

-- An employer's inbox: the applications to one offer, by status.
CREATE INDEX applications_job_offer_status_idx ON applications (job_offer_id, status);
