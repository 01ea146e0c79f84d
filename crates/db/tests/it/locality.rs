//! #12.3: a host is local only when every address it resolves to is loopback. Resolution is
//! injected, so every local-looking name × resolver answer is generated; the connections go
//! to real servers started by the harness.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use intowork_config::TlsMode;
use intowork_db::{ConnectError, connect_with, online};
use intowork_db::{Resolver, is_loopback, route};
use intowork_testkit::{Flavor, PgServer};
use proptest::prelude::*;

use crate::common::*;

/// Answers every lookup with the same answer and records the names it was asked.
struct Table {
    answer: Result<Vec<IpAddr>, io::ErrorKind>,
    asked: Mutex<Vec<String>>,
}

impl Table {
    fn new(answer: Result<Vec<IpAddr>, io::ErrorKind>) -> Table {
        Table {
            answer,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn ips(ips: &[IpAddr]) -> Table {
        Table::new(Ok(ips.to_vec()))
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Resolver for Table {
    async fn lookup(&self, host: &str, _port: u16) -> io::Result<Vec<IpAddr>> {
        self.asked.lock().unwrap().push(host.to_owned());
        match &self.answer {
            Ok(ips) => Ok(ips.clone()),
            Err(kind) => Err(io::Error::new(
                *kind,
                "failed to lookup address information: Name or service not known",
            )),
        }
    }
}

fn local_name() -> impl Strategy<Value = String> {
    let label = "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?";
    (
        proptest::collection::vec(label, 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(labels, upper, dot)| {
            let mut name = labels.join(".");
            name.push_str(if name.is_empty() {
                "localhost"
            } else {
                ".localhost"
            });
            if upper {
                name = name.to_uppercase();
            }
            if dot {
                name.push('.');
            }
            name
        })
}

fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[a, b, c]| IpAddr::V4(Ipv4Addr::new(127, a, b, c))),
        Just(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        any::<[u8; 3]>()
            .prop_map(|[a, b, c]| IpAddr::V6(Ipv4Addr::new(127, a, b, c).to_ipv6_mapped())),
        any::<u32>()
            .prop_filter("not loopback", |n| n >> 24 != 127)
            .prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u128>()
            .prop_filter("not loopback", |n| !is_loopback(&IpAddr::V6(
                Ipv6Addr::from(*n)
            )))
            .prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
        Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        Just(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
    ]
}

fn answer() -> impl Strategy<Value = Result<Vec<IpAddr>, io::ErrorKind>> {
    prop_oneof![
        4 => proptest::collection::vec(address(), 0..4).prop_map(Ok),
        4 => proptest::collection::vec(address().prop_filter("loopback", is_loopback), 1..4).prop_map(Ok),
        1 => Just(Err(io::ErrorKind::Other)),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every local-looking name × every resolver answer × every TLS mode: the name is allowed
    /// plaintext only when the answer is non-empty and all loopback; under `require` or
    /// stronger the resolver is not even asked (the remote rules are already met).
    #[test]
    fn a_local_looking_name_is_local_only_if_every_address_is_loopback(
        name in local_name(),
        answer in answer(),
        mode in prop_oneof![Just(""), Just("sslmode=disable"), Just("sslmode=allow"), Just("sslmode=prefer"), Just("sslmode=require"), Just("ssl=true")],
    ) {
        let s = settings(&format!("postgres://u:pw-Fake1@{name}:5432/db?{mode}"), &[]);
        let db = s.database();
        let table = Table::new(answer.clone());
        let got = runtime().block_on(route(db, &table));
        if db.target().tls_mode().guarantees_encryption() {
            prop_assert!(table.asked().is_empty());
            let route = got.unwrap();
            prop_assert_eq!(route.loopback(), None);
            return Ok(());
        }
        prop_assert_eq!(table.asked(), [name.clone()]);
        let local = answer.as_ref().is_ok_and(|a| !a.is_empty() && a.iter().all(is_loopback));
        match got {
            Ok(route) => {
                prop_assert!(local, "{:?} accepted", answer);
                let mut unique = Vec::new();
                for ip in answer.unwrap() {
                    if !unique.contains(&ip) {
                        unique.push(ip);
                    }
                }
                prop_assert_eq!(route.loopback(), Some(&unique[..]));
            }
            Err(ConnectError::NotLoopback { addresses, host, .. }) => {
                prop_assert!(!local);
                prop_assert_eq!(&host, &name);
                let listed = answer.unwrap();
                if listed.is_empty() {
                    prop_assert_eq!(&addresses, "no address");
                }
                for ip in listed {
                    prop_assert!(addresses.contains(&ip.to_string()));
                }
            }
            Err(e) => prop_assert!(answer.is_err() && e.kind() == "dns", "{}", e),
        }
    }

    /// Hosts that are local by their own form (a loopback address, a socket) or that are
    /// not local-looking never consult the resolver.
    #[test]
    fn addresses_and_sockets_need_no_lookup(
        host in prop_oneof![Just("127.0.0.1"), Just("127.8.9.10"), Just("[::1]"), Just("%2Frun%2Fpostgresql")],
        mode in prop_oneof![Just("sslmode=disable"), Just("sslmode=prefer"), Just("")],
    ) {
        let s = settings(&format!("postgres://u:pw@{host}/db?{mode}"), &[]);
        let table = Table::ips(&[IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
        let got = runtime().block_on(route(s.database(), &table)).unwrap();
        prop_assert!(table.asked().is_empty());
        prop_assert_eq!(got.loopback(), None);
    }
}

const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A name no resolver on this machine knows, pointed at the real plaintext server.
fn plaintext_url(query: &str) -> (intowork_testkit::TestDb, String) {
    let server = PgServer::shared(Flavor::PlaintextOnly);
    let db = server.create_database();
    let url = db.url_with_host_port("pg.localhost", server.port(), query);
    (db, url)
}

#[tokio::test]
async fn a_proven_name_connects_through_the_addresses_that_were_checked() {
    let (db, url) = plaintext_url("sslmode=disable");
    let s = settings(&url, &[]);
    // `pg.localhost` resolves nowhere here: connecting proves the checked address was used.
    let table = Table::ips(&[IpAddr::V6(Ipv6Addr::LOCALHOST), LOOPBACK]);
    let connected = connect_with(s.database(), &table).await.unwrap();
    assert!(!connected.session.ssl);
    assert_eq!(table.asked(), ["pg.localhost"]);
    assert_eq!(connected.route.loopback().unwrap().len(), 1);
    let shown = format!("{connected:?}");
    intowork_db::close(connected.conn).await;

    // The pool goes where the proof went, with no lookup of its own.
    let route = route(s.database(), &Table::ips(&[LOOPBACK])).await.unwrap();
    let pool = intowork_db::pool(s.database(), &route);
    let mut conn = pool.acquire().await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    drop(conn);
    pool.close(std::time::Duration::from_secs(5)).await;
    assert_lacks!(shown, &db.password);
}

#[tokio::test]
async fn a_local_looking_name_that_resolves_elsewhere_is_refused_before_connecting() {
    let (db, url) = plaintext_url("sslmode=disable");
    let s = settings(&url, &[("DATABASE_CONNECT_TIMEOUT_SECS", "5")]);
    for answer in [vec![ELSEWHERE], vec![LOOPBACK, ELSEWHERE], vec![]] {
        let started = Instant::now();
        let e = connect_with(s.database(), &Table::ips(&answer))
            .await
            .unwrap_err();
        assert!(matches!(e, ConnectError::NotLoopback { .. }), "{e}");
        assert!(!e.is_transient(), "refused at once, not retried: {e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        let text = all_forms(&e);
        assert_contains!(text, "looks local");
        assert_contains!(text, "sslmode=require");
        assert_lacks!(text, &db.password);
    }
    // `prefer` is just as refused: it falls back to plaintext silently.
    let (_, url) = plaintext_url("");
    let s = settings(&url, &[]);
    assert_eq!(s.database().target().tls_mode(), TlsMode::Prefer);
    let e = connect_with(s.database(), &Table::ips(&[ELSEWHERE]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_loopback");
}

#[tokio::test]
async fn verify_stops_at_dns_for_a_name_that_resolves_elsewhere() {
    let (_, url) = plaintext_url("sslmode=disable");
    let s = settings(&url, &[]);
    let report = online::run_with(s.database(), 1, &Table::ips(&[ELSEWHERE])).await;
    let dns = online::Stage::Dns.find(&report).unwrap();
    assert_eq!(dns.status, intowork_config::Status::Fail, "{dns:?}");
    assert_contains!(dns.message, "203.0.113.9");
    for stage in &online::Stage::ALL[1..] {
        assert_eq!(
            stage.find(&report).unwrap().status,
            intowork_config::Status::Skip,
            "{stage:?}"
        );
    }

    let report = online::run_with(s.database(), 1, &Table::ips(&[LOOPBACK])).await;
    let dns = online::Stage::Dns.find(&report).unwrap();
    assert_contains!(dns.message, "every address loopback");
    assert!(!report.has_failures(), "{report:#?}");
    assert_eq!(
        online::Stage::TlsProof.find(&report).unwrap().status,
        intowork_config::Status::Warn
    );
}
