//! `floor`: the bench's anchor for the backend's HTTP routes — `/health`, `/api/jobs?limit=N`
//! and `/api/jobs/{id}` with the same SQL and the same JSON, on the fewest layers Rust offers:
//! hyper 1 directly (no router, no middleware), tokio-postgres with prepared statements on a
//! few connections shared by all requests (pipelined), rustls to the database as the backend
//! has it. `cargo xtask bench` builds it in release and runs it beside the backend.
//!
//! Environment: `DATABASE_URL` (libpq URL, `sslmode=require`), `PORT` (0: any),
//! `FLOOR_CONNECTIONS` (default 4). Prints `listening on 127.0.0.1:PORT` when ready.

mod db;
mod http;
mod tls;

use std::process::ExitCode;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Connections to PostgreSQL: enough to keep two cores busy with pipelined queries.
const DEFAULT_CONNECTIONS: usize = 4;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime starts");
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let port: u16 = std::env::var("PORT").map_or(Ok(0), |p| p.parse())?;
    let connections =
        std::env::var("FLOOR_CONNECTIONS").map_or(Ok(DEFAULT_CONNECTIONS), |n| n.parse())?;
    let db = Arc::new(db::Database::connect(&url, connections).await?);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let db = db.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| http::handle(req, db.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
