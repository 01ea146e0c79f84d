//! Shared helpers for the configuration tests.

use intowork_config::{Invalid, Loaded, Settings, Source, ValueOrigin};
use intowork_testkit::ValidEnv;

/// Obviously fake values (the testkit's, shared by every crate's tests): none is a real credential.
pub use intowork_testkit::fake::{
    DB_PASSWORD as PASSWORD, NEXTAUTH_SECRET as SECRET, RESEND_API_KEY as RESEND,
};

pub fn seed_url(query: &str) -> String {
    ValidEnv::railway_url(query)
}

/// The testkit's valid development configuration, on a local database.
pub fn valid_env() -> ValidEnv {
    ValidEnv::development(&format!(
        "postgres://app:{PASSWORD}@localhost:5432/intowork"
    ))
}

/// A valid development configuration, overridden by `extra` (an empty value removes a variable).
pub fn source(extra: &[(&str, &str)]) -> Source {
    let mut vars = valid_env().vars();
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        if !v.is_empty() {
            vars.push((k.to_string(), v.to_string()));
        }
    }
    Source::from_pairs(vars, ValueOrigin::Environment)
}

/// A valid production configuration (the testkit's), overridden by `extra` as in [`source`].
pub fn production(extra: &[(&str, &str)]) -> Source {
    let production = ValidEnv::production("").vars();
    let mut all: Vec<(&str, &str)> = production
        .iter()
        .filter(|(k, _)| k != "DATABASE_URL" && k != "NEXTAUTH_SECRET")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.extend_from_slice(extra);
    source(&all)
}

pub fn load(src: &Source) -> Result<Loaded, Invalid> {
    Settings::load(src)
}

/// The message of check `id` in a valid configuration's report; panics naming it if absent.
pub fn message(src: &Source, id: &str) -> String {
    let report = match Settings::load(src) {
        Ok(l) => l.report,
        Err(e) => panic!("{e}"),
    };
    match report.checks.into_iter().find(|c| c.id == id) {
        Some(c) => c.message,
        None => panic!("no check {id}"),
    }
}

/// Ids of the failed checks.
pub fn failures(src: &Source) -> Vec<String> {
    match Settings::load(src) {
        Ok(_) => vec![],
        Err(e) => e.report.failures().map(|c| c.id.clone()).collect(),
    }
}

pub fn warnings(src: &Source) -> Vec<String> {
    let report = match Settings::load(src) {
        Ok(l) => l.report,
        Err(e) => e.report,
    };
    report.warnings().map(|c| c.id.clone()).collect()
}

/// Every way a load's outcome can be printed: settings and report `Debug`, each check's
/// `Display` and `Debug`, the error's `Display`, and the JSON a renderer would write.
pub fn everything_printable(src: &Source) -> String {
    let (head, report) = match Settings::load(src) {
        Ok(l) => (format!("{:?}\n{:?}", l.settings, l.report), l.report),
        Err(e) => (format!("{e}\n{e:?}"), e.report),
    };
    let checks: Vec<String> = report.checks.iter().map(|c| format!("{c} {c:?}")).collect();
    let json = serde_json::to_string(&report).expect("a report serialises");
    format!("{head}\n{}\n{json}", checks.join("\n"))
}
