-- no-transaction
-- A candidate's own applications, newest first, keyset-paginated on (created_at, id).
-- Built CONCURRENTLY (outside a transaction): applications keep taking writes meanwhile.
CREATE INDEX CONCURRENTLY applications_candidate_created_idx ON applications (candidate_id, created_at DESC, id DESC);
