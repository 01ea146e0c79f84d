-- Email waiting to be sent, written in the same transaction as the change that causes it (a
-- transactional outbox): a committed change always has its mail, a rolled-back one never.
-- The backend's worker sends each row through Resend with the row's id as Idempotency-Key.
CREATE TYPE email_status AS ENUM ('pending', 'sent', 'failed', 'skipped');

CREATE TABLE email_outbox (
    -- A UUID, not a sequence: it is the Idempotency-Key at Resend, which must never repeat
    -- across databases sharing an API key (staging and production, a reset database).
    id               UUID         PRIMARY KEY DEFAULT gen_random_uuid(),
    kind             TEXT         NOT NULL,
    recipient        TEXT         NOT NULL,
    subject          TEXT         NOT NULL,
    body_text        TEXT         NOT NULL,
    status           email_status NOT NULL DEFAULT 'pending',
    attempts         INTEGER      NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_error       TEXT,
    -- Resend's id for the sent email.
    provider_id      TEXT,
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
    sent_at          TIMESTAMPTZ,
    CONSTRAINT email_outbox_attempts_non_negative CHECK (attempts >= 0),
    CONSTRAINT email_outbox_sent_at_matches_status CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- The worker's claim (due pending rows, oldest first) and readiness's backlog; partial, so the
-- ever-growing history of sent rows costs nothing.
CREATE INDEX email_outbox_pending_idx ON email_outbox (next_attempt_at) WHERE status = 'pending';
