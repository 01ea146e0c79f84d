-- no-transaction
DROP INDEX CONCURRENTLY IF EXISTS applications_offer_created_idx;
