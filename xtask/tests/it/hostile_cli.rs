//! #26.9 and #26.10 through the real binary: control characters from the command line
//! reach the terminal escaped on every path that echoes them (the `--env-file` path, `migrate
//! add`'s name, clap's own usage errors), and every unusable env file exits 2.

use std::ffi::OsString;
use std::path::Path;

use proptest::prelude::*;
use xshell::{Shell, cmd};

use crate::common::Run;
use intowork_testkit::hostile::{shows_no_raw_control, terminal_text};

/// Text carrying a terminal control, or a forged `error:` line.
fn hostile() -> impl Strategy<Value = String> {
    terminal_text("\r\nerror: forged line\n")
}

fn run(args: &[OsString], env: &[(&str, &str)]) -> Run {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let out = cmd!(sh, "{bin} {args...}")
        .env_clear()
        .envs(env.iter().copied())
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    Run::from(out)
}

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

/// No raw control character but the line breaks the program writes itself; the hostile
/// text is shown escaped, so its own line breaks cannot start a forged line.
fn assert_escaped(text: &str, hostile: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        shows_no_raw_control(text),
        "raw control character in {:?}",
        text
    );
    if !text.is_empty() {
        let escaped = intowork_config::escape_control(hostile).into_owned();
        prop_assert!(
            text.contains(&escaped),
            "{:?} not shown escaped in {:?}",
            escaped,
            text
        );
    }
    Ok(())
}

/// The unusable kinds of env file: missing, a directory, a FIFO, a socket, a symlink loop, a
/// dangling symlink, a path through a file, and a file over the size limit.
fn make_unusable(dir: &Path, name: &str, kind: usize) -> std::path::PathBuf {
    let path = dir.join(name);
    let sh = Shell::new().unwrap();
    match kind {
        0 => {}
        1 => std::fs::create_dir(&path).unwrap(),
        2 => cmd!(sh, "mkfifo {path}").quiet().run().unwrap(),
        3 => {
            let _ = std::os::unix::net::UnixListener::bind(&path).unwrap();
        }
        4 => {
            let other = dir.join(format!("{name}.other"));
            std::os::unix::fs::symlink(&other, &path).unwrap();
            std::os::unix::fs::symlink(&path, &other).unwrap();
        }
        5 => std::os::unix::fs::symlink(dir.join("nowhere"), &path).unwrap(),
        6 => {
            std::fs::write(&path, "A=1\n").unwrap();
            return path.join("inside.env");
        }
        _ => std::fs::write(&path, "#".repeat(2 << 20)).unwrap(),
    }
    path
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// #26.10 and the `--env-file` path of #26.9: every kind of unusable file exits 2, at once,
    /// naming the path escaped.
    #[test]
    fn every_unusable_env_file_exits_2_with_its_path_escaped(
        name in hostile(),
        task in prop_oneof![Just("verify"), Just("migrate")],
    ) {
        let dir = tempfile::tempdir().unwrap();
        for kind in 0..8 {
            let path = make_unusable(dir.path(), &format!("{kind}{name}"), kind);
            let mut argv = match task {
                "verify" => args(&["verify", "--offline"]),
                _ => args(&["migrate", "status"]),
            };
            argv.push("--env-file".into());
            argv.push(path.into());
            let started = std::time::Instant::now();
            let r = run(&argv, &[]);
            prop_assert!(started.elapsed() < std::time::Duration::from_secs(20));
            prop_assert_eq!(r.code, 2, "kind {}: {}{}", kind, r.stdout, r.stderr);
            assert_escaped(&r.stderr, &name)?;
            prop_assert!(r.stdout.is_empty(), "{:?}", r.stdout);
        }
    }

    /// `migrate add`'s name and directory, echoed in its usage errors, are escaped.
    #[test]
    fn migrate_add_escapes_what_it_echoes(name in hostile(), in_dir in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let (name_arg, dir_arg) = if in_dir {
            ("ok_name".to_owned(), dir.path().join(&name))
        } else {
            (name.clone(), dir.path().to_path_buf())
        };
        let r = run(
            &[
                "migrate".into(),
                "add".into(),
                name_arg.into(),
                "--dir".into(),
                dir_arg.into(),
            ],
            &[],
        );
        if r.code == 0 {
            // Surrounding white space is trimmed; what is left must be a plain name.
            prop_assert!(!in_dir && name.trim().chars().all(|c| c.is_ascii_alphanumeric()), "{:?}", name);
        }
        if r.code != 0 {
            assert_escaped(&r.stderr, &name)?;
        }
    }

    /// clap's own usage errors for hostile arguments, wherever they stand.
    #[test]
    fn usage_errors_escape_hostile_arguments(text in hostile(), at in 0usize..6) {
        let argv: Vec<OsString> = match at {
            0 => vec![text.clone().into()],
            1 => vec!["verify".into(), text.clone().into()],
            2 => vec!["verify".into(), "--replicas".into(), text.clone().into()],
            3 => vec!["logs".into(), "--lines".into(), text.clone().into()],
            4 => vec!["deploy".into(), "--commit".into(), text.clone().into()],
            _ => vec!["verify".into(), format!("--{text}").into()],
        };
        let r = run(&argv, &[]);
        prop_assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        prop_assert!(r.stderr.contains("error"), "{:?}", r.stderr);
        prop_assert!(r.stdout.is_empty(), "{:?}", r.stdout);
        assert_escaped(&r.stderr, &text)?;
    }
}
