//! configure → connect → migrate → bind → serve, each step logged with its duration.

use std::future::{Future, IntoFuture};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::ServiceExt;
use axum::extract::Request;
use intowork_config::Settings;
use intowork_db::Pool;
use intowork_db::migrate::{self, Limits, MIGRATOR};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::auth::Authenticator;
use crate::email::compose::Links;
use crate::email::resend::Resend;
use crate::email::worker::{self, Sender};
use crate::state::AppState;
use crate::{http, routes};

/// How long closing the pool may take after the server stopped.
const POOL_CLOSE_BUDGET: Duration = Duration::from_secs(5);

/// A connected, migrated service with its port bound, ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    service: http::Service,
    pool: Pool,
    grace: Duration,
    outbox: Outbox,
}

/// The email worker's parts, started by [`Application::run_until`].
#[derive(Debug)]
struct Outbox {
    /// Its own small pool: sends hold a connection for their duration, requests keep theirs.
    pool: Pool,
    sender: Sender,
    wake: Arc<Notify>,
}

impl Application {
    /// Connects (TLS policy, classified retries, TLS proof), migrates unless
    /// `MIGRATE_ON_START=false` — on a connection of its own to the database itself
    /// (`DATABASE_DIRECT_URL` when set; never through a transaction pooler, refused before
    /// anything is sent: `intowork_db::migrate::connect`) — and binds `[::]:port` (`0.0.0.0`
    /// without IPv6).
    /// `port` overrides `PORT` (0: any free port).
    pub async fn build(settings: &Settings, port: Option<u16>) -> anyhow::Result<Application> {
        crate::build_info::BuildInfo::current().log();
        let db = settings.database();
        tracing::info!(
            environment = %settings.environment(),
            database = %db.target().masked(),
            tls = %db.target().tls_mode(),
            "configuration loaded"
        );

        let t = Instant::now();
        let (pool, session) = intowork_db::connect_pool(db)
            .await
            .context("cannot connect to the database")?;
        tracing::info!(took_ms = ms(t), session = %session, "database connected");

        if settings.service().migrate_on_start {
            let t = Instant::now();
            let steps = migrate::run(
                db,
                &MIGRATOR,
                Limits::from_settings(settings.migrations()),
                false,
            )
            .await
            .context("migrations failed; nothing was served")?;
            tracing::info!(took_ms = ms(t), applied = steps.len(), "migrations done");
        } else {
            tracing::info!("MIGRATE_ON_START=false: migrations are left to `backend migrate`");
        }

        let listener = bind(port.unwrap_or(settings.port())).await?;
        let outbox = Outbox {
            pool: pool.sibling(worker::SLOTS),
            sender: match settings.email() {
                Some(email) => Sender::Resend(Resend::new(email)),
                None => {
                    tracing::info!(
                        "RESEND_API_KEY is not set: emails are logged and marked skipped, not sent"
                    );
                    Sender::Off
                }
            },
            wake: Arc::new(Notify::new()),
        };
        let state = AppState {
            pool: pool.clone(),
            tls_required: db.target().tls_mode().guarantees_encryption(),
            auth: Arc::new(Authenticator::new(settings.nextauth_secret())),
            links: Links::new(settings.frontend_url()),
            outbox_wake: outbox.wake.clone(),
        };
        Ok(Application {
            listener,
            service: http::service(routes::router(state), settings),
            pool,
            grace: settings.service().shutdown_grace,
            outbox,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The routes with their middleware, for tests that need no socket.
    pub fn router(&self) -> http::Service {
        self.service.clone()
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves (and sends queued email) until `shutdown` resolves, then stops accepting and
    /// claiming, lets in-flight requests and sends finish within the grace period, and closes
    /// the pools.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.local_addr(), "listening on {}", self.local_addr());
        let (stop_worker, stop_rx) = watch::channel(false);
        let outbox = self.outbox;
        let mut sends = worker::spawn(outbox.pool.clone(), outbox.sender, outbox.wake, stop_rx);
        tracing::info!("application startup complete");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let service = ServiceExt::<Request>::into_make_service(self.service);
        let serve = axum::serve(self.listener, service).with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        let mut server = tokio::spawn(serve.into_future());
        let result = tokio::select! {
            result = &mut server => {
                let _ = stop_worker.send(true);
                result.context("the server task failed").and_then(|r| r.context("the server stopped"))
            }
            () = shutdown => {
                let _ = stop_tx.send(());
                let _ = stop_worker.send(true);
                drain(server, &mut sends, self.grace).await
            }
        };
        sends.abort_all();
        for pool in [&self.pool, &outbox.pool] {
            pool.close(POOL_CLOSE_BUDGET).await;
        }
        tracing::info!("shutdown complete");
        result
    }
}

/// Waits for in-flight requests, then in-flight sends, all within `grace`; what is still
/// running after it is cut (an unfinished send's row stays pending, with the same id).
async fn drain(
    mut server: tokio::task::JoinHandle<std::io::Result<()>>,
    sends: &mut JoinSet<()>,
    grace: Duration,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let deadline = tokio::time::Instant::now() + grace;
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(result) => {
            result
                .context("the server task failed")?
                .context("the server stopped")?;
            tracing::info!(took_ms = ms(t), "in-flight requests drained");
        }
        Err(_) => {
            server.abort();
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "drain deadline passed: remaining requests were cut"
            );
        }
    }
    let in_flight = async { while sends.join_next().await.is_some() {} };
    if tokio::time::timeout_at(deadline, in_flight).await.is_ok() {
        tracing::info!(took_ms = ms(t), "email worker stopped");
    } else {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "drain deadline passed: unfinished email sends stay pending and are re-sent with the same idempotency key"
        );
    }
    Ok(())
}

/// `backend` / `backend serve`.
pub async fn serve(settings: Settings, port: Option<u16>) -> anyhow::Result<()> {
    let app = Application::build(&settings, port).await?;
    app.run_until(crate::shutdown::signal()).await
}

/// `backend migrate`: Railway's pre-deploy command.
pub async fn migrate_only(settings: Settings) -> anyhow::Result<()> {
    let t = Instant::now();
    let steps = migrate::run(
        settings.database(),
        &MIGRATOR,
        Limits::from_settings(settings.migrations()),
        false,
    )
    .await?;
    for s in &steps {
        tracing::info!(version = s.version, description = %s.description, "applied");
    }
    tracing::info!(took_ms = ms(t), applied = steps.len(), "migrations done");
    Ok(())
}

/// Dual-stack `[::]` (Railway's older private network is IPv6-only); `0.0.0.0` where the
/// machine has no IPv6.
async fn bind(port: u16) -> anyhow::Result<TcpListener> {
    match TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)).await {
        Ok(listener) => Ok(listener),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
            ) || e.raw_os_error() == Some(97) =>
        {
            tracing::info!(error = %e, "no IPv6 here: binding 0.0.0.0");
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
                .await
                .with_context(|| format!("cannot listen on 0.0.0.0:{port}"))
        }
        Err(e) => Err(e).with_context(|| {
            format!("cannot listen on [::]:{port} (is another process using the port?)")
        }),
    }
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}
