//! Which session ran each DDL command of a database: an event trigger, installed by the
//! superuser, logs every command with the session's `application_name` and process id. For
//! tests of *where* migrations ran (the database itself, or through a pooler) and how often.

use crate::cluster::PgServer;
use crate::sql::TestDb;

/// One DDL command, as the event trigger saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlCommand {
    /// `CREATE TABLE`, `CREATE INDEX`, …
    pub tag: String,
    /// The object's identity (`public.users`), empty when there is none.
    pub object: String,
    /// The session's `application_name` when it ran.
    pub application_name: String,
    /// The server process that ran it (`pg_backend_pid()`).
    pub backend_pid: u32,
}

const INSTALL: &str = "
CREATE SCHEMA testkit;
CREATE TABLE testkit.ddl_log (
    id bigserial PRIMARY KEY,
    tag text NOT NULL,
    object text NOT NULL,
    application_name text NOT NULL,
    backend_pid int NOT NULL
);
CREATE FUNCTION testkit.log_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO testkit.ddl_log (tag, object, application_name, backend_pid)
    SELECT command_tag, coalesce(object_identity, ''), current_setting('application_name'),
           pg_backend_pid()
      FROM pg_event_trigger_ddl_commands();
END
$$;
CREATE EVENT TRIGGER testkit_log_ddl ON ddl_command_end EXECUTE FUNCTION testkit.log_ddl();
";

impl PgServer {
    /// From now on, every DDL command run in `db` (by any role) is logged: read the log with
    /// [`PgServer::ddl_log`]. The log lives in the schema `testkit`, out of `public`.
    pub fn log_ddl(&self, db: &TestDb) {
        self.psql(&db.name, INSTALL);
    }

    /// Every DDL command logged in `db` since [`PgServer::log_ddl`], oldest first.
    pub fn ddl_log(&self, db: &TestDb) -> Vec<DdlCommand> {
        let rows = self.psql(
            &db.name,
            "SELECT tag || E'\\t' || object || E'\\t' || application_name || E'\\t' || backend_pid FROM testkit.ddl_log ORDER BY id",
        );
        rows.lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                DdlCommand {
                    tag: fields[0].to_owned(),
                    object: fields[1].to_owned(),
                    application_name: fields[2].to_owned(),
                    backend_pid: fields[3].parse().expect("a process id"),
                }
            })
            .collect()
    }
}
