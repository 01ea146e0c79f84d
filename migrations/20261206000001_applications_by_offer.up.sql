-- no-transaction
-- An offer's applications, newest first, keyset-paginated on (created_at, id): the list an
-- employer pages through (`GET /api/jobs/{id}/applications`) reads it in order, no sort.
-- Built CONCURRENTLY (outside a transaction): applications keep taking writes meanwhile.
CREATE INDEX CONCURRENTLY applications_offer_created_idx ON applications (job_offer_id, created_at DESC, id DESC);
