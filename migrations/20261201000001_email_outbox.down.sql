DROP TABLE email_outbox;
DROP TYPE email_status;
