//! The backend as the tests drive it (zero2prod's `spawn_app`): one place where
//! `Application::build` is wired, with a method per endpoint.

use intowork_backend::Application;
use intowork_backend::http::Service;
use intowork_testkit::TestDb;
use serde_json::Value;

use crate::common::call::{Answer, call};
use crate::common::settings;

/// The application built on a test database with the valid configuration: listening on a
/// free port, not yet serving (requests go through [`TestApp::router`] without a socket), or
/// served in the background with [`TestApp::serve`].
pub struct TestApp {
    app: Application,
}

/// A [`TestApp`] serving on its port; dropping `stop` (or sending on it) shuts it down.
pub struct Serving {
    pub port: u16,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    /// Builds the application on `db` with the valid configuration overridden by `extra`
    /// (`common::settings`), on port 0.
    pub async fn spawn(db: &TestDb, extra: &[(&str, &str)]) -> TestApp {
        TestApp::with_settings(&settings(db, extra)).await
    }

    /// Builds the application with these settings, on port 0.
    pub async fn with_settings(settings: &intowork_config::Settings) -> TestApp {
        let app = Application::build(settings, Some(0))
            .await
            .expect("the application starts");
        TestApp { app }
    }

    /// The service's router, for requests without a socket.
    pub fn router(&self) -> Service {
        self.app.router()
    }

    /// Serves in the background until `stop` is sent or dropped.
    pub fn serve(self) -> Serving {
        let port = self.app.port();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(self.app.run_until(async {
            let _ = rx.await;
        }));
        Serving { port, stop, handle }
    }

    /// Any request, with a bearer token when one is given.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        call(&self.router(), method, path, &headers, body).await
    }

    /// `GET /api/me`, with a bearer token when one is given.
    pub async fn me(&self, token: Option<&str>) -> Answer {
        self.request("GET", "/api/me", token, None).await
    }

    /// `GET /api/me` with these headers (a bearer token, cookies…).
    pub async fn me_with(&self, headers: &[(&str, &str)]) -> Answer {
        call(&self.router(), "GET", "/api/me", headers, None).await
    }

    /// `POST /api/jobs/{offer}/applications`.
    pub async fn apply(&self, token: Option<&str>, offer: i64, body: Value) -> Answer {
        let path = format!("/api/jobs/{offer}/applications");
        self.request("POST", &path, token, Some(body)).await
    }

    /// `GET /api/applications?{query}` (the candidate's own).
    pub async fn my_applications(&self, token: Option<&str>, query: &str) -> Answer {
        let path = with_query("/api/applications", query);
        self.request("GET", &path, token, None).await
    }

    /// `GET /api/jobs/{offer}/applications?{query}` (the employer's view).
    pub async fn offer_applications(&self, token: Option<&str>, offer: i64, query: &str) -> Answer {
        let path = with_query(&format!("/api/jobs/{offer}/applications"), query);
        self.request("GET", &path, token, None).await
    }

    /// `PATCH /api/applications/{id}` with `{"status": status}`.
    pub async fn set_status(&self, token: Option<&str>, id: i64, status: &str) -> Answer {
        let path = format!("/api/applications/{id}");
        let body = serde_json::json!({ "status": status });
        self.request("PATCH", &path, token, Some(body)).await
    }
}

/// `path`, with `?query` when there is one.
fn with_query(path: &str, query: &str) -> String {
    match query {
        "" => path.to_owned(),
        q => format!("{path}?{q}"),
    }
}

/// What the tests read from the application itself (its pool, its port).
impl std::ops::Deref for TestApp {
    type Target = Application;

    fn deref(&self) -> &Application {
        &self.app
    }
}
