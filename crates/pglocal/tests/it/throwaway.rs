//! `Server`: the "start a throwaway TLS-only cluster, create a database, give me its URL,
//! stop it" path of `prepare` and the test harness.

use std::net::{Ipv4Addr, TcpListener, TcpStream};

use intowork_pglocal::{Pg, Server, ServerOptions, Workdir};

use crate::psql::{SSL_IN_USE, connect};

#[test]
fn a_throwaway_cluster_is_tls_only_like_railway_and_disappears_when_dropped() {
    let server = Server::throwaway().expect("start a throwaway cluster");
    let db = server
        .create_database("scratch")
        .expect("create a database");
    assert_eq!(
        db.url("sslmode=require"),
        format!(
            "postgres://scratch:{}@localhost:{}/scratch?sslmode=require",
            db.password,
            server.port()
        )
    );
    assert_eq!(connect(&db, "require", SSL_IN_USE).as_deref(), Ok("t"));
    let plaintext = connect(&db, "disable", "SELECT 1").expect_err("plaintext is refused");
    assert!(plaintext.contains("no encryption"), "{plaintext}");
    // The certificate is its own root, as Railway's is: verify-full with it passes (libpq).
    let root = server.root_cert_path().expect("a TLS cluster has a root");
    let verified = connect(
        &db,
        &format!("verify-full sslrootcert={}", root.display()),
        SSL_IN_USE,
    );
    assert_eq!(verified.as_deref(), Ok("t"));
    assert_eq!(server.cert_sha256().map(str::len), Some(64));
    assert_eq!(
        server
            .superuser()
            .query("scratch", "SELECT current_user")
            .unwrap(),
        "postgres"
    );

    let (dir, port) = (server.dir().to_owned(), server.port());
    server.stop().expect("stop");
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "stopped"
    );
    server.restart().expect("restart on the same port");
    assert_eq!(connect(&db, "require", SSL_IN_USE).as_deref(), Ok("t"));
    drop(server);
    assert!(!dir.exists(), "drop deletes the cluster");
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "drop stops it"
    );
}

#[test]
fn a_taken_port_is_a_typed_error_with_the_server_log() {
    let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = squatter.local_addr().unwrap().port();
    let pg = Pg::find().unwrap();
    let dir = Workdir::open("intowork-pglocal", pg.user)
        .unwrap()
        .new_dir("taken-port")
        .unwrap();
    let options = ServerOptions {
        port: Some(port),
        ..ServerOptions::default()
    };
    let error = Server::start(&pg, dir.clone(), &options).expect_err("the port is taken");
    assert!(error.is_port_taken(), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("(port {port}) could not listen"))
            && message.contains("Address already in use"),
        "{message}"
    );
    assert!(!dir.exists(), "a failed start leaves nothing behind");
}

#[test]
fn names_that_would_need_quoting_never_reach_sql() {
    let server = Server::throwaway().unwrap();
    let error = server
        .create_database("x; DROP DATABASE postgres")
        .unwrap_err();
    assert!(
        matches!(error, intowork_pglocal::Error::BadName(_)),
        "{error:?}"
    );
}
