//! Shared helpers for the configuration tests.

use intowork_config::{Invalid, Loaded, Settings, Source, ValueOrigin};

/// Obviously fake, generated-looking values: none is a real credential.
pub const PASSWORD: &str = "pw-Fake7Qz9TestOnly";
pub const SECRET: &str = "test-nextauth-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e";
pub const RESEND: &str = "re_fakeTestKey123456";

pub fn seed_url(query: &str) -> String {
    format!("postgresql://postgres:{PASSWORD}@interchange.proxy.rlwy.net:41234/railway{query}")
}

/// A valid development configuration, overridden by `extra` (an empty value removes a variable).
pub fn source(extra: &[(&str, &str)]) -> Source {
    let mut vars: Vec<(String, String)> = vec![
        (
            "DATABASE_URL".into(),
            format!("postgres://app:{PASSWORD}@localhost:5432/intowork"),
        ),
        ("NEXTAUTH_SECRET".into(), SECRET.into()),
    ];
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        if !v.is_empty() {
            vars.push((k.to_string(), v.to_string()));
        }
    }
    Source::from_pairs(vars, ValueOrigin::Environment)
}

pub fn production(extra: &[(&str, &str)]) -> Source {
    let mut all = vec![
        ("ENVIRONMENT", "production"),
        ("ALLOWED_ORIGINS", "https://app.intowork.example"),
        ("FRONTEND_URL", "https://app.intowork.example"),
    ];
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
