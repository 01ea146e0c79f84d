//! Tidy: docs/configuration.md's variable table is generated from the registry, so adding a
//! variable to `crates/config/src/variables.rs` is the one change that documents it.

const DOC: &str = "docs/configuration.md";
const START: &str = "<!-- variables: generated from crates/config/src/variables.rs -->\n";
const END: &str = "<!-- /variables -->";
const FIX: &str = "UPDATE_DOCS=1 cargo test -p intowork-config --test it variable_table";

#[test]
fn the_variable_table_is_generated_from_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(DOC);
    let doc = std::fs::read_to_string(&path).expect("docs/configuration.md is readable");
    let (Some(start), Some(end)) = (doc.find(START), doc.find(END)) else {
        panic!("{DOC} lacks the `{START}` … `{END}` markers around the variable table");
    };
    let table = intowork_config::markdown_table();
    let current = &doc[start + START.len()..end];
    if current == table {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{START}{table}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated).expect("docs/configuration.md is writable");
        return;
    }
    panic!("{DOC}'s variable table differs from the registry: run `{FIX}`");
}
