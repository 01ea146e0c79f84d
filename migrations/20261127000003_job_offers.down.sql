DROP TABLE job_offers;
DROP TYPE job_offer_status;
