//! Settings built the way production builds them, pointed at the harness's servers.

use intowork_config::{Settings, Source, ValueOrigin};
use intowork_testkit::ValidEnv;
use tokio::net::tcp;

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

/// A TCP proxy on a free loopback port in front of `upstream`: each client connection and its
/// own server connection are handed, split, to `pair` (which spawns what pipes them).
pub async fn proxy<F>(upstream: u16, pair: F) -> u16
where
    F: Fn(tcp::OwnedReadHalf, tcp::OwnedWriteHalf, tcp::OwnedReadHalf, tcp::OwnedWriteHalf)
        + Send
        + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream))
                .await
                .unwrap();
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            pair(cr, cw, sr, sw);
        }
    });
    port
}
