-- People who use IntoWork: candidates apply, employers publish offers, admins moderate.
CREATE TYPE user_role AS ENUM ('candidate', 'employer', 'admin');

CREATE TABLE users (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       TEXT        NOT NULL,
    full_name   TEXT        NOT NULL,
    role        user_role   NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    CONSTRAINT users_full_name_present CHECK (length(btrim(full_name)) > 0)
);

-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
