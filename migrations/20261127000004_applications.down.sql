DROP TABLE applications;
DROP TYPE application_status;
