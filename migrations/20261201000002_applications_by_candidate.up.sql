-- A candidate's own applications, newest first, keyset-paginated on (created_at, id).
CREATE INDEX applications_candidate_created_idx ON applications (candidate_id, created_at DESC, id DESC);
