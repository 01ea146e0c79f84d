//! `Persistent`: the cluster `cargo xtask dev` and `bench` keep across runs.

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;

use intowork_pglocal::{Persistent, Pg, ServerUser};

use crate::psql::{SSL_IN_USE, connect};

#[test]
fn a_persistent_cluster_is_created_once_reused_moved_off_a_taken_port_and_removed() {
    let pg = Pg::find().unwrap();
    // Private to us (a checkout under /root, say): when the server runs as `postgres`, the
    // data must live elsewhere.
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let dir = parent.path().join("stack");
    let cluster = Persistent::new(pg.clone(), &dir, 50);
    assert_eq!(cluster.data_dir(), None);

    let first = cluster.start().expect("create and start");
    assert!(first.created && !first.was_running, "{first:?}");
    assert_eq!(cluster.port(), Some(first.port));
    let data = cluster.data_dir().expect("created");
    match pg.user {
        ServerUser::Account { .. } => assert!(!data.starts_with(parent.path()), "{data:?}"),
        ServerUser::Current => assert_eq!(data, dir.join("pgdata")),
    }
    let mode = std::fs::metadata(dir.join("superuser.pw"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let again = cluster.start().unwrap();
    assert!(
        !again.created && again.was_running && again.port == first.port,
        "{again:?}"
    );
    let superuser = cluster.superuser().unwrap();
    assert_eq!(
        superuser.query("postgres", "SHOW max_connections").unwrap(),
        "50"
    );
    assert_eq!(
        superuser
            .query("postgres", "SHOW unix_socket_directories")
            .unwrap(),
        ""
    );
    let db = superuser.ensure_database("app").unwrap();
    assert_eq!(connect(&db, "require", SSL_IN_USE).as_deref(), Ok("t"));
    let plaintext = connect(&db, "disable", "SELECT 1").expect_err("TLS only");
    assert!(plaintext.contains("no encryption"), "{plaintext}");

    assert!(cluster.stop().unwrap(), "it ran");
    assert!(
        !cluster.stop().unwrap(),
        "stopping a stopped cluster is a no-op"
    );
    let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, first.port)).unwrap();
    let moved = cluster.start().unwrap();
    assert!(
        !moved.created && !moved.was_running && moved.port != first.port,
        "{moved:?}"
    );
    drop(squatter);
    // Reused: a new password for the same role and database, the old one no longer works.
    let renewed = cluster.superuser().unwrap().ensure_database("app").unwrap();
    assert_ne!(renewed.password, db.password);
    assert_eq!(connect(&renewed, "require", "SELECT 1").as_deref(), Ok("1"));
    let old = intowork_pglocal::Database {
        port: moved.port,
        ..db
    };
    let refused = connect(&old, "require", "SELECT 1").expect_err("old password");
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );

    cluster.remove().unwrap();
    assert!(!cluster.is_running());
    assert!(!dir.exists() && !data.exists(), "everything deleted");
}
