//! #26.7, #26.8, #26.10: the env-file reader opens once and reads what it opened (a path
//! swapped between a file and a FIFO never hangs it), refuses a file over its size limit with
//! a clear error, and parses what it reads right.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use proptest::prelude::*;

use intowork_config::{Source, SourceError};

fn mkfifo(path: &Path) {
    let sh = xshell::Shell::new().unwrap();
    xshell::cmd!(sh, "mkfifo {path}").quiet().run().unwrap();
}

/// Points `link` at `target` atomically (a new symlink renamed over the old one).
fn repoint(link: &Path, target: &Path, scratch: &Path) {
    let _ = std::fs::remove_file(scratch);
    std::os::unix::fs::symlink(target, scratch).unwrap();
    std::fs::rename(scratch, link).unwrap();
}

/// A reader stuck opening the FIFO is released by a writer that opens and closes it.
fn release(fifo: &Path) {
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo);
}

/// #26.7: while another thread swaps the path between a regular file and a FIFO, every read
/// ends, with the file's variables or with "not a regular file", never blocked.
#[test]
fn a_path_swapped_between_a_file_and_a_fifo_never_hangs_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("real.env");
    std::fs::write(&file, "PORT=8123\n").unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let link: PathBuf = dir.path().join("swapped.env");
    repoint(&link, &file, &dir.path().join("tmp-link"));

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, link, file, fifo) = (stop.clone(), link.clone(), file.clone(), fifo.clone());
        let scratch = dir.path().join("tmp-link");
        std::thread::spawn(move || {
            let mut on_fifo = false;
            while !stop.load(Ordering::Relaxed) {
                on_fifo = !on_fifo;
                repoint(&link, if on_fifo { &fifo } else { &file }, &scratch);
            }
        })
    };

    let (mut read, mut refused) = (0, 0);
    let mut hung = None;
    for attempt in 0..400 {
        let (tx, rx) = mpsc::channel();
        let path = link.clone();
        std::thread::spawn(move || {
            let _ = tx.send(Source::from_env_file(&path));
        });
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(src)) => {
                assert_eq!(src.lookup("PORT").text(), Some("8123"));
                read += 1;
            }
            Ok(Err(SourceError::NotAFile { .. })) => refused += 1,
            Ok(Err(SourceError::FileMissing { .. })) => {}
            Ok(Err(other)) => panic!("attempt {attempt}: {other:?}"),
            Err(_) => {
                hung = Some(attempt);
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    if hung.is_some() {
        release(&fifo);
    }
    assert_eq!(
        hung, None,
        "a read hung ({read} read, {refused} refused before it)"
    );
    assert!(
        read > 0 && refused > 0,
        "the race was not exercised: {read} read, {refused} refused"
    );
}

/// #26.8: a file over the limit is refused before it is read, with the limit in the message.
#[test]
fn a_file_over_the_size_limit_is_refused_with_a_clear_error() {
    let limit = intowork_config::MAX_ENV_FILE_BYTES;
    let dir = tempfile::tempdir().unwrap();
    for (size, ok) in [
        (limit - 1, true),
        (limit, true),
        (limit + 1, false),
        (4 * limit, false),
    ] {
        let path = dir.path().join(format!("{size}.env"));
        let mut f = std::fs::File::create(&path).unwrap();
        let line = b"# padding padding padding padding padding padding padding padding\n";
        let mut written = 0;
        while written < size {
            let n = line.len().min(size - written);
            f.write_all(&line[..n]).unwrap();
            written += n;
        }
        drop(f);
        match Source::from_env_file(&path) {
            Ok(_) => assert!(ok, "{size} bytes accepted"),
            Err(e @ SourceError::TooLarge { .. }) => {
                assert!(!ok, "{size} bytes refused: {e}");
                let text = e.to_string();
                assert_contains!(text, "1 MiB");
                assert_contains!(text, &format!("{size}.env"));
            }
            Err(e) => panic!("{size} bytes: {e:?}"),
        }
    }
}

/// How a value may be written in an env file, and what it reads back as.
fn written(value: &str, style: usize) -> Option<String> {
    let plain = !value.is_empty()
        && !value.contains(['"', '\'', '\\', '#', '\n', '\r'])
        && value.trim() == value;
    match style {
        0 if plain => Some(value.to_owned()),
        1 if !value.contains('\'') => Some(format!("'{value}'")),
        2 => Some(format!(
            "\"{}\"",
            value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        )),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any set of variables, each written plain, single- or double-quoted (escapes included),
    /// with `export`, comments and CRLF line ends: the file reads back exactly.
    #[test]
    fn generated_files_read_back_exactly(
        entries in proptest::collection::vec(
            ("[A-Z][A-Z0-9_]{0,8}", "[ -~\n]{0,24}", 0usize..3, any::<bool>(), any::<bool>()),
            0..12,
        ),
        crlf in any::<bool>(),
    ) {
        let mut text = String::from("# generated\n\n");
        let mut want = std::collections::BTreeMap::new();
        for (key, value, style, export, comment) in &entries {
            let Some(v) = written(value, *style) else { continue };
            let export = if *export { "export " } else { "" };
            let comment = if *comment && *style != 0 { " # note" } else { "" };
            text.push_str(&format!("{export}{key}={v}{comment}\n"));
            want.insert(key.clone(), value.clone());
        }
        if crlf {
            // A quoted value's own line breaks become CRLF too, and read back as LF.
            text = text.replace('\n', "\r\n");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gen.env");
        std::fs::write(&path, &text).unwrap();
        let src = Source::from_env_file(&path).unwrap();
        for (k, v) in &want {
            let got = src.get(k).map(|s| s.value.to_string_lossy().into_owned());
            prop_assert_eq!(got.as_deref(), Some(v.as_str()), "{} in {:?}", k, text);
        }
    }
}
