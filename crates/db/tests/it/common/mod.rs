//! Settings built the way production builds them, pointed at the harness's servers.

use intowork_config::{Settings, Source, ValueOrigin};
use intowork_testkit::ValidEnv;

/// Valid settings for `url` (the testkit's valid configuration), plus extra variables (e.g.
/// a short connect budget).
pub fn settings(url: &str, extra: &[(&str, &str)]) -> Settings {
    let mut vars = ValidEnv::development(url).vars();
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    match Settings::load(&Source::from_pairs(vars, ValueOrigin::Environment)) {
        Ok(loaded) => loaded.settings,
        Err(e) => panic!("test settings are invalid: {e}"),
    }
}

/// Every printable form of an error, for leak checks.
pub fn all_forms(e: &dyn std::error::Error) -> String {
    let mut out = format!("{e}\n{e:?}");
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    out
}
