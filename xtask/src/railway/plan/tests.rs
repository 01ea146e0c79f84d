use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn plan(changes: Value, graphs: Option<(Value, Value)>) -> Plan {
    let mut doc = json!({"ok": true, "command": "plan", "file": ".railway/railway.ts", "changeSet": {"changes": changes}, "diagnostics": []});
    if let Some((current, desired)) = graphs {
        doc["currentGraph"] = current;
        doc["desiredGraph"] = desired;
    }
    parse(&doc.to_string(), &Relay::default()).unwrap()
}

/// A graph of one service deploying from `source` (or from nothing).
fn graph(source: Value) -> Value {
    json!({"project": {"name": "intowork"}, "resources": [
        {"address": "service.backend", "type": "service", "name": "backend", "source": source},
        {"address": "database.postgres", "type": "database", "name": "Postgres", "source": {"image": "ghcr.io/railwayapp-templates/postgres-ssl:17"}},
    ]})
}

fn repo(name: &str) -> Value {
    json!({"type": "github", "repo": name, "branch": "main"})
}

fn classes(p: &Plan) -> Vec<Option<Destruction>> {
    p.changes.iter().map(|c| c.destruction).collect()
}

#[test]
fn the_engines_wording_deletions_and_a_lost_source_are_destructive_other_changes_pending() {
    let p = plan(
        json!([
          {"kind":"variable.delete","summary":"Delete variable backend.SENTRY_DSN","severity":"destructive"},
          {"kind":"variable.set","summary":"Update variable backend.LOG_FORMAT","severity":"safe","details":["backend.LOG_FORMAT («hidden» → «hidden»)"]},
          {"kind":"resource.update","summary":"Update backend source.repo, source.type","severity":"safe","details":["source.repo (\"intowork/intowork-backend\" → null)","source.type (\"github\" → null)"]},
          {"kind":"resource.update","summary":"Update backend source.repo","severity":"safe","details":["source.repo (\"a/b\" → \"c/d\")"]},
          {"kind":"resource.update","summary":"Update backend source.branch","severity":"safe","details":["source.branch (\"main\" → \"release\")"]},
          {"kind":"resource.delete","summary":"Delete service worker","severity":"destructive"},
          {"kind":"resource.update","summary":"Resize volume data","severity":"destructive"},
          {"kind":"resource.update","summary":"Update resource backend deploy.healthcheckTimeout","severity":"safe"}
        ]),
        None,
    );
    assert_eq!(
        classes(&p),
        [
            Some(Destruction::VariableDeleted),
            None,
            Some(Destruction::SourceDetached),
            Some(Destruction::SourceReplaced),
            None,
            Some(Destruction::ResourceDeleted),
            Some(Destruction::Other),
            None,
        ]
    );
}

#[test]
fn without_graphs_a_source_change_in_unknown_words_fails_closed() {
    let p = plan(
        json!([
          {"kind":"resource.update","summary":"Source disconnected from backend","severity":"safe"},
          {"kind":"resource.update","summary":"Update backend source.provider","severity":"safe","details":["source.provider (\"github\" → \"gitlab\")"]},
          {"kind":"service.source.update","summary":"Backend will build from a new source","severity":"info"},
          {"kind":"resource.update","summary":"Backend: healthcheck timeout 120 → 300","severity":"safe"}
        ]),
        None,
    );
    assert_eq!(
        classes(&p),
        [
            Some(Destruction::SourceUnrecognised),
            Some(Destruction::SourceUnrecognised),
            Some(Destruction::SourceUnrecognised),
            None,
        ]
    );
}

#[test]
fn the_graphs_decide_whatever_the_servers_wording() {
    // The server's preview says it in its own words, without "source": the graphs show the
    // repository gone, and that alone refuses the plan, named by service.
    let p = plan(
        json!([{"kind":"resource.update","summary":"Disconnect repository from backend","severity":"safe"}]),
        Some((graph(repo("intowork/intowork-backend")), graph(Value::Null))),
    );
    let destructive: Vec<_> = p.destructive().collect();
    assert_eq!(destructive.len(), 1, "{p:?}");
    assert_eq!(
        destructive[0].destruction,
        Some(Destruction::SourceDetached)
    );
    assert_eq!(
        destructive[0].summary,
        "backend: source github:intowork/intowork-backend → none"
    );
    assert_eq!(p.pending().count(), 1);

    // A change that names the service and the source carries the finding itself.
    let p = plan(
        json!([{"kind":"resource.update","summary":"Backend source updated","severity":"safe"}]),
        Some((
            graph(repo("intowork/intowork-backend")),
            graph(repo("someone/else")),
        )),
    );
    assert_eq!(classes(&p), [Some(Destruction::SourceReplaced)]);

    // Same repository on both sides: a source change in unknown words is a pending change.
    let p = plan(
        json!([{"kind":"resource.update","summary":"Source settings changed","severity":"safe"}]),
        Some((
            graph(repo("intowork/intowork-backend")),
            graph(repo("intowork/intowork-backend")),
        )),
    );
    assert_eq!(classes(&p), [None]);

    // A database whose image the file omits is not a lost source (the engine skips it).
    let mut desired = graph(repo("intowork/intowork-backend"));
    desired["resources"][1]["source"] = Value::Null;
    let p = plan(
        json!([]),
        Some((graph(repo("intowork/intowork-backend")), desired)),
    );
    assert!(p.changes.is_empty(), "{p:?}");
}

#[test]
fn an_unplannable_file_keeps_its_diagnostics() {
    let p = parse(r#"{"ok":false,"command":"plan","file":"x","changeSet":{"changes":[]},"diagnostics":[{"severity":"error","path":"resources.service.backend.variables","message":"backend declares no env but Railway has 3 variables"}]}"#, &Relay::default()).unwrap();
    assert!(!p.ok);
    assert_eq!(
        p.errors,
        [
            "resources.service.backend.variables: backend declares no env but Railway has 3 variables"
        ]
    );
}

/// Words a server might use; none is the engine's `path (before → after)` form.
fn words() -> impl Strategy<Value = String> {
    proptest::collection::vec("[A-Za-z]{1,9}", 0..6).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the wording, a change that mentions the source is never let through
    /// unread: without graphs it fails closed.
    #[test]
    fn any_unrecognised_wording_that_touches_source_fails_closed_without_graphs(
        before in words(), after in words(), word in "(S|s)ource|SOURCE",
        detail in proptest::option::of(words()), severity in "safe|info|[a-z]{0,8}",
    ) {
        let summary = format!("{before} {word} {after}");
        let details: Vec<String> = detail.into_iter().collect();
        let p = plan(json!([{"kind": "resource.update", "summary": summary, "severity": severity, "details": details}]), None);
        prop_assert!(p.destructive().count() == 1, "{p:?}");
    }

    /// Whatever the server says (or omits), a repository the file would take away is
    /// refused once, naming the service.
    #[test]
    fn a_lost_source_in_the_graphs_is_refused_whatever_the_changes_say(
        summaries in proptest::collection::vec(words(), 0..4), replaced in any::<bool>(),
    ) {
        let changes: Vec<Value> = summaries.iter().map(|s| json!({"kind": "resource.update", "summary": s, "severity": "safe"})).collect();
        let after = if replaced { repo("someone/else") } else { Value::Null };
        let p = plan(Value::Array(changes), Some((graph(repo("intowork/intowork-backend")), graph(after))));
        let destructive: Vec<_> = p.destructive().collect();
        prop_assert_eq!(destructive.len(), 1, "{:?}", p);
        let expected = if replaced { Destruction::SourceReplaced } else { Destruction::SourceDetached };
        prop_assert_eq!(destructive[0].destruction, Some(expected));
    }
}
