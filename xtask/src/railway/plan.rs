//! `railway config plan --json --detailed-exit-code`: what applying `.railway/railway.ts`
//! would change, classified. The CLI prints its runner response (railwayapp 5.71.0,
//! `src/commands/config/runner.rs`): `{ok, changeSet: {changes: [{kind, summary, severity,
//! details}]}, diagnostics: [{severity, path, message}], …}`; values are redacted. Exit 0: no
//! change; 2: changes pending; 1 after printing `ok: false`: the file could not be planned.

use serde::Deserialize;

/// Why a planned change must stop a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destruction {
    /// `variable.delete`: a variable on the service the file does not list.
    VariableDeleted,
    /// `resource.delete`: a service (or other resource) the file owns but no longer declares.
    ResourceDeleted,
    /// `source` planned to nothing: the service loses its repository or image. The engine
    /// grades it `safe` (src/iac/change_set.rs, `diff_top_level_field`): this tool does not.
    SourceDetached,
    /// `source` planned to another repository or image.
    SourceReplaced,
    /// Anything else the engine itself grades `destructive` (volume shrink, region move, …).
    Other,
}

impl Destruction {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Destruction::VariableDeleted => "variable deletion",
            Destruction::ResourceDeleted => "resource deletion",
            Destruction::SourceDetached => "source detached",
            Destruction::SourceReplaced => "source replaced",
            Destruction::Other => "destructive",
        }
    }
}

/// One planned change: its summary names what changes (`Delete variable backend.FOO`),
/// never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) kind: String,
    pub(crate) summary: String,
    pub(crate) destruction: Option<Destruction>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// False when the engine could not evaluate or compare the file (see `errors`).
    pub(crate) ok: bool,
    pub(crate) changes: Vec<Change>,
    /// Diagnostics of severity `error`, as the CLI words them.
    pub(crate) errors: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

impl Plan {
    pub(crate) fn destructive(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.destruction.is_some())
    }

    pub(crate) fn pending(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.destruction.is_none())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    ok: bool,
    #[serde(default)]
    change_set: Option<ChangeSet>,
    #[serde(default)]
    diagnostics: Vec<Diagnostic>,
}

#[derive(Deserialize)]
struct ChangeSet {
    #[serde(default)]
    changes: Vec<RawChange>,
}

#[derive(Deserialize)]
struct RawChange {
    kind: Option<String>,
    summary: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    details: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Diagnostic {
    severity: String,
    #[serde(default)]
    path: String,
    message: String,
}

pub(crate) fn parse(stdout: &str) -> Result<Plan, serde_json::Error> {
    let response: Response = serde_json::from_str(stdout)?;
    let (errors, warnings): (Vec<_>, Vec<_>) = response
        .diagnostics
        .into_iter()
        .map(|d| (d.severity == "error", format!("{}: {}", d.path, d.message)))
        .partition(|(error, _)| *error);
    Ok(Plan {
        ok: response.ok,
        changes: response
            .change_set
            .map(|c| c.changes)
            .unwrap_or_default()
            .into_iter()
            .map(classify)
            .collect(),
        errors: errors.into_iter().map(|(_, m)| m).collect(),
        warnings: warnings.into_iter().map(|(_, m)| m).collect(),
    })
}

fn classify(raw: RawChange) -> Change {
    let kind = raw.kind.unwrap_or_default();
    let summary = raw.summary.unwrap_or_else(|| kind.clone());
    let details = raw.details.unwrap_or_default();
    let destruction = match kind.as_str() {
        "variable.delete" => Some(Destruction::VariableDeleted),
        "resource.delete" => Some(Destruction::ResourceDeleted),
        "resource.update" => source_change(&details)
            .or((raw.severity.as_deref() == Some("destructive")).then_some(Destruction::Other)),
        _ => (raw.severity.as_deref() == Some("destructive")).then_some(Destruction::Other),
    };
    Change {
        kind,
        summary,
        destruction,
    }
}

/// The engine's details read `source.repo ("a/b" → null)`: a repository or image that goes
/// away detaches the source; one that becomes another replaces it. A branch change is an
/// ordinary pending change.
fn source_change(details: &[String]) -> Option<Destruction> {
    let mut found = None;
    for detail in details {
        let Some((path, values)) = detail.split_once(" (") else {
            continue;
        };
        if !matches!(
            path,
            "source" | "source.repo" | "source.image" | "source.type"
        ) {
            continue;
        }
        let (before, after) = values
            .trim_end_matches(')')
            .split_once(" → ")
            .unwrap_or((values, ""));
        if after == "null" {
            return Some(Destruction::SourceDetached);
        }
        if before != "null" && path != "source.type" {
            found = Some(Destruction::SourceReplaced);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_and_a_lost_source_are_destructive_other_changes_pending() {
        let plan = parse(
            r#"{"ok":true,"command":"plan","file":".railway/railway.ts","changeSet":{"changes":[
              {"kind":"variable.delete","summary":"Delete variable backend.SENTRY_DSN","severity":"destructive"},
              {"kind":"variable.set","summary":"Update variable backend.LOG_FORMAT","severity":"safe","details":["backend.LOG_FORMAT («hidden» → «hidden»)"]},
              {"kind":"resource.update","summary":"Update backend source.repo, source.type","severity":"safe","details":["source.repo (\"intowork/intowork-backend\" → null)","source.type (\"github\" → null)"]},
              {"kind":"resource.update","summary":"Update backend source.repo","severity":"safe","details":["source.repo (\"a/b\" → \"c/d\")"]},
              {"kind":"resource.update","summary":"Update backend source.branch","severity":"safe","details":["source.branch (\"main\" → \"release\")"]},
              {"kind":"resource.delete","summary":"Delete service worker","severity":"destructive"},
              {"kind":"resource.update","summary":"Resize volume data","severity":"destructive"}
            ]},"diagnostics":[{"severity":"warning","path":"variables.ignore","message":"pattern matches no variable."}]}"#,
        )
        .unwrap();
        let classes: Vec<_> = plan.changes.iter().map(|c| c.destruction).collect();
        assert_eq!(
            classes,
            [
                Some(Destruction::VariableDeleted),
                None,
                Some(Destruction::SourceDetached),
                Some(Destruction::SourceReplaced),
                None,
                Some(Destruction::ResourceDeleted),
                Some(Destruction::Other),
            ]
        );
        assert!(plan.ok && plan.errors.is_empty() && plan.warnings.len() == 1);
    }

    #[test]
    fn an_unplannable_file_keeps_its_diagnostics() {
        let plan = parse(r#"{"ok":false,"command":"plan","file":"x","changeSet":null,"diagnostics":[{"severity":"error","path":"resources.service.backend.variables","message":"backend declares no env but Railway has 3 variables"}]}"#).unwrap();
        assert!(!plan.ok);
        assert_eq!(
            plan.errors,
            [
                "resources.service.backend.variables: backend declares no env but Railway has 3 variables"
            ]
        );
    }
}
