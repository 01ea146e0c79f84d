//! Tidy: the README's variable table is generated from the registry, so adding a variable
//! to `crates/config/src/variables.rs` is the one change that documents it.

const START: &str = "<!-- variables: generated from crates/config/src/variables.rs -->\n";
const END: &str = "<!-- /variables -->";
const FIX: &str = "UPDATE_README=1 cargo test -p intowork-config --test it readme";

#[test]
fn the_readme_variable_table_is_generated_from_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the `{START}` … `{END}` markers around the variable table");
    };
    let table = intowork_config::markdown_table();
    let current = &readme[start + START.len()..end];
    if current == table {
        return;
    }
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{START}{table}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).expect("README.md is writable");
        return;
    }
    panic!("README.md's variable table differs from the registry: run `{FIX}`");
}
