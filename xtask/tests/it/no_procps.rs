//! Tidy: no test, task or message runs procps' `kill`, `pkill`, `pgrep` or `ps` (or
//! `killall`) as a program. A minimal Debian has none of them, and a missing `kill` once made
//! `dev --check` blame the backend for a SIGTERM it never got. Signals go through `kill(2)`
//! (rustix: xtask's `child`, the test kit's `process`), the process table comes from `/proc`.
//!
//! Checked: every string literal of every Rust file (commands given to `cmd!`, shell scripts
//! of stand-ins, messages), and every line of the shell scripts CI runs (`.ci/*`, the
//! workflows, the Dockerfile) — each command of a line, after `|`, `;`, `&&`, `(`, `$(`, and
//! keywords such as `if` or `sudo`.

use crate::common::{read, root};
use crate::tidy::rust_sources;

const BANNED: [&str; 5] = ["kill", "pkill", "pgrep", "ps", "killall"];

/// Words that may stand before the program of a command.
const PREFIXES: [&str; 15] = [
    "if", "then", "else", "elif", "do", "while", "until", "!", "exec", "sudo", "xargs", "time",
    "command", "nohup", "run:",
];

/// The banned program a shell script (or a command given as text) runs, if any.
fn runs_banned(script: &str) -> Option<&'static str> {
    script
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .map(|line| line.split(" #").next().unwrap_or(line))
        .flat_map(|line| line.split(['|', ';', '&', '(', ')', '`']))
        .filter_map(|command| {
            command
                .split_whitespace()
                .map(|w| w.trim_start_matches('$'))
                .find(|w| !PREFIXES.contains(w) && !w.contains('='))
        })
        .find_map(|program| BANNED.into_iter().find(|&b| program == b))
}

/// The contents of the string literals of Rust source `text` (comments skipped, escapes
/// `\n`, `\t`, `\"` and `\\` undone), raw strings included.
fn string_literals(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let starts = |s: &str| rest.iter().take(s.len()).copied().eq(s.chars());
        if starts("//") {
            i += rest.iter().position(|&c| c == '\n').unwrap_or(rest.len());
        } else if starts("'\"'") || starts("'\\\"'") {
            i += if rest[1] == '\\' { 4 } else { 3 };
        } else if starts("r\"") || starts("r#\"") || starts("r##\"") {
            let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body: String = rest[2 + hashes..].iter().collect();
            let end = body.find(&close).unwrap_or(body.len());
            found.push(body[..end].to_owned());
            i += 2 + hashes + body[..end].chars().count() + close.len();
        } else if rest[0] == '"' {
            let mut literal = String::new();
            let mut k = 1;
            while k < rest.len() && rest[k] != '"' {
                if rest[k] == '\\' && k + 1 < rest.len() {
                    literal.push(match rest[k + 1] {
                        'n' => '\n',
                        't' => '\t',
                        '\n' => ' ',
                        other => other,
                    });
                    k += 2;
                } else {
                    literal.push(rest[k]);
                    k += 1;
                }
            }
            found.push(literal);
            i += k + 1;
        } else {
            i += 1;
        }
    }
    found
}

#[test]
fn the_checker_sees_each_way_of_running_a_banned_program() {
    for runs in [
        "kill -TERM {pid}",
        "kill -{name} {pid}",
        "pkill -STOP -P {pid}",
        "if pgrep -af 'postgres -D' | grep -v x; then",
        "ps aux | grep postgres",
        "    run: sudo killall backend",
        "#!/bin/sh\nsleep 1; kill $$\n",
        "x=$(pgrep postgres)",
    ] {
        assert!(runs_banned(runs).is_some(), "missed: {runs:?}");
    }
    for fine in [
        "SIGTERM, then wait (killed after the budget)",
        "the backend was killed",
        "set -e\nexec \"$@\"",
        "mount --bind \"$1\" /etc/hosts && shift && exec \"$@\"",
        "# kill -TERM is not used here",
        "cargo xtask dev stop",
    ] {
        assert_eq!(runs_banned(fine), None, "{fine:?}");
    }
    let literals = string_literals(
        "// cmd!(sh, \"kill -9 1\")\nlet c = '\"'; cmd!(sh, \"pkill \\\"x\\\"\"); r#\"ps -e\"#",
    );
    assert_eq!(literals, ["pkill \"x\"", "ps -e"]);
}

#[test]
fn no_test_task_or_message_runs_kill_pkill_pgrep_or_ps() {
    let mut offenders = Vec::new();
    for file in rust_sources(&root()) {
        let relative = file.strip_prefix(root()).unwrap().display().to_string();
        if relative == "xtask/tests/it/no_procps.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for literal in string_literals(&text) {
            if let Some(program) = runs_banned(&literal) {
                offenders.push(format!("{relative}: `{program}` in {literal:?}"));
            }
        }
    }
    let mut scripts: Vec<String> = std::fs::read_dir(root().join(".ci"))
        .unwrap()
        .map(|e| format!(".ci/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    scripts.extend(
        [
            ".github/workflows/ci.yml",
            ".github/workflows/deploy.yml",
            "Dockerfile",
        ]
        .map(String::from),
    );
    for script in scripts {
        for (n, line) in read(&script).lines().enumerate() {
            if let Some(program) = runs_banned(line) {
                offenders.push(format!("{script}:{}: `{program}` in {line:?}", n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "procps is not on a minimal machine: send signals with kill(2) (rustix; in tests \
         intowork_testkit::process::signal) and read processes from /proc \
         (intowork_testkit::process::processes):\n{}",
        offenders.join("\n")
    );
}
