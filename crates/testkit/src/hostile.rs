//! Hostile text for the tests of every program that prints what it was given: the terminal
//! controls an attacker would put in an argument, a variable or a file name, and the check
//! that none of them reached the output raw.

use proptest::prelude::*;

/// Text carrying one terminal control (NUL excepted: no argument, variable or file name can
/// hold it) between letters, or `forged_line`: a line break followed by a line shaped like
/// the program's own output (each program forges its own).
pub fn terminal_text(forged_line: &'static str) -> impl Strategy<Value = String> {
    (
        "[a-z]{1,6}",
        prop_oneof![
            Just("\x1b[2J\x1b[H"),
            Just("\r"),
            Just("\n"),
            Just("\x07"),
            Just("\t"),
            Just("\x7f"),
            Just("\u{9b}"),
            Just("\u{202e}"),
            Just(forged_line),
        ],
        "[a-z]{0,6}",
    )
        .prop_map(|(a, c, b)| format!("{a}{c}{b}"))
}

/// True when no line of `text` holds a control character or a direction override: the
/// line breaks the program writes itself are all that may remain.
pub fn shows_no_raw_control(text: &str) -> bool {
    text.lines()
        .all(|l| !l.chars().any(|c| c.is_control() || c == '\u{202e}'))
}
