//! `railway config plan --json --detailed-exit-code`: what applying `.railway/railway.ts`
//! would change, classified. Exit 0: no change; 2: changes pending; 1 after printing
//! `ok: false`: the file could not be planned.
//!
//! What the CLI prints (railwayapp 5.71.0): its `RunnerResponse` (src/commands/config/
//! runner.rs) — `{ok, changeSet: {changes: [{summary, severity, kind, details}]},
//! diagnostics: [{severity, path, message}], currentGraph, desiredGraph, …}`. Two facts shape
//! the gate:
//! - with changes, the engine swaps its own change set for Railway's server-side preview
//!   (`environmentPreviewChangeSet`, src/iac/engine.rs) before printing, so the wording of
//!   `summary` and `details` is the server's, not the engine's;
//! - `RunnerResponse`'s `Change` keeps only those four fields: the engine's `path`,
//!   `address`, `before` and `after` never reach stdout.
//!
//! So the destructive-change gate decides on structured fields: `kind` and `severity` of each
//! change, and for the service's **source** the two graphs (the live one and the file's),
//! compared resource by resource. The prose is read only to catch more, never to let a change
//! through: a change that mentions the source in words this tool does not recognise fails
//! closed when no graph can settle it.

use serde::Deserialize;
use serde_json::Value;

use super::relay::Relay;

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
    /// A change that touches `source` in words this tool cannot read, and no graph to
    /// settle it: refused rather than guessed.
    SourceUnrecognised,
    /// Anything else graded `destructive` (volume shrink, region move, …).
    Other,
}

impl Destruction {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Destruction::VariableDeleted => "variable deletion",
            Destruction::ResourceDeleted => "resource deletion",
            Destruction::SourceDetached => "source detached",
            Destruction::SourceReplaced => "source replaced",
            Destruction::SourceUnrecognised => "source change not understood",
            Destruction::Other => "destructive",
        }
    }
}

/// One planned change: its summary names what changes (`Delete variable backend.FOO`),
/// never a value; relayed (masked, escaped) like all the CLI's text.
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
    #[serde(default)]
    current_graph: Option<Graph>,
    #[serde(default)]
    desired_graph: Option<Graph>,
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

/// `DesiredGraph` (src/commands/config/runner.rs): what the gate reads of it.
#[derive(Deserialize)]
struct Graph {
    #[serde(default)]
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct Resource {
    address: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    source: Option<Value>,
}

impl Resource {
    /// The repository or image a service deploys from (`github:…`, `image:…`).
    fn origin(&self) -> Option<String> {
        let source = self.source.as_ref()?;
        let text = |k: &str| source.get(k)?.as_str().filter(|s| !s.is_empty());
        if let Some(repo) = text("repo") {
            return Some(format!("github:{repo}"));
        }
        // The engine reads `postgres` and `postgres:latest` alike (`normalize_image_tag`).
        let image = text("image")?;
        Some(format!(
            "image:{}",
            image.strip_suffix(":latest").unwrap_or(image)
        ))
    }

    fn same(&self, other: &Resource) -> bool {
        match (&self.address, &other.address) {
            (Some(a), Some(b)) => a == b,
            _ => self.kind == other.kind && self.name == other.name && self.name.is_some(),
        }
    }

    fn label(&self) -> &str {
        self.name
            .as_deref()
            .or(self.address.as_deref())
            .unwrap_or("a resource")
    }
}

/// A service whose source the file would detach or replace, read from the graphs.
struct Lost {
    /// The resource's name, lower-cased, to find the change that speaks of it.
    resource: String,
    change: Change,
    reported: bool,
}

/// Compares the live and the desired source of every resource present on both sides.
/// Databases are left out: the engine treats their image as equivalent when the file omits
/// it (`is_equivalent_database_source`).
fn lost_sources(current: &Graph, desired: &Graph, relay: &Relay) -> Vec<Lost> {
    let mut lost = Vec::new();
    for want in &desired.resources {
        if want.kind.as_deref() == Some("database") {
            continue;
        }
        let Some(have) = current.resources.iter().find(|r| r.same(want)) else {
            continue;
        };
        let (Some(before), after) = (have.origin(), want.origin()) else {
            continue;
        };
        let destruction = match &after {
            None => Destruction::SourceDetached,
            Some(after) if *after != before => Destruction::SourceReplaced,
            Some(_) => continue,
        };
        lost.push(Lost {
            resource: want.label().to_lowercase(),
            change: Change {
                kind: "resource.update".into(),
                summary: relay.text(&format!(
                    "{}: source {before} → {}",
                    want.label(),
                    after.as_deref().unwrap_or("none")
                )),
                destruction: Some(destruction),
            },
            reported: false,
        });
    }
    lost
}

pub(crate) fn parse(stdout: &str, relay: &Relay) -> Result<Plan, serde_json::Error> {
    let response: Response = serde_json::from_str(stdout)?;
    let (errors, warnings): (Vec<_>, Vec<_>) = response
        .diagnostics
        .into_iter()
        .map(|d| {
            let text = relay.text(&format!("{}: {}", d.path, d.message));
            (d.severity == "error", text)
        })
        .partition(|(error, _)| *error);
    let mut lost = match (&response.current_graph, &response.desired_graph) {
        (Some(current), Some(desired)) => Some(lost_sources(current, desired, relay)),
        _ => None,
    };
    let mut changes: Vec<Change> = response
        .change_set
        .map(|c| c.changes)
        .unwrap_or_default()
        .into_iter()
        .map(|raw| classify(raw, lost.as_deref_mut(), relay))
        .collect();
    // What the graphs show and no change of the set said: the server may word a lost source
    // without the word "source" at all.
    changes.extend(
        lost.into_iter()
            .flatten()
            .filter(|l| !l.reported)
            .map(|l| l.change),
    );
    Ok(Plan {
        ok: response.ok,
        changes,
        errors: errors.into_iter().map(|(_, m)| m).collect(),
        warnings: warnings.into_iter().map(|(_, m)| m).collect(),
    })
}

fn classify(raw: RawChange, lost: Option<&mut [Lost]>, relay: &Relay) -> Change {
    let kind = raw.kind.unwrap_or_default();
    let summary = raw.summary.unwrap_or_else(|| kind.clone());
    let details = raw.details.unwrap_or_default();
    let destructive =
        (raw.severity.as_deref() == Some("destructive")).then_some(Destruction::Other);
    let destruction = match kind.as_str() {
        "variable.delete" => Some(Destruction::VariableDeleted),
        "resource.delete" => Some(Destruction::ResourceDeleted),
        // A new resource or a variable cannot take a service's source away.
        "resource.create" | "variable.set" => destructive,
        // `resource.update`, or a kind this tool does not know.
        _ if touches_source(&summary, &details) => {
            source_verdict(&summary, &details, lost).or(destructive)
        }
        _ => destructive,
    };
    Change {
        kind: relay.text(&kind),
        summary: relay.text(&summary),
        destruction,
    }
}

/// The word `source` (not `resource`) anywhere in the change.
fn touches_source(summary: &str, details: &[String]) -> bool {
    std::iter::once(summary)
        .chain(details.iter().map(String::as_str))
        .any(|text| {
            let lower = text.to_lowercase();
            lower.match_indices("source").any(|(i, _)| {
                !lower[..i]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphabetic)
            })
        })
}

/// The destruction of a change that touches `source`. With the graphs: the loss they show
/// for the resource the change names, or what the engine's wording says, else none — a loss
/// no change claims is reported on its own (see `parse`). Without them: the engine's
/// wording when recognised, else refused.
fn source_verdict(
    summary: &str,
    details: &[String],
    lost: Option<&mut [Lost]>,
) -> Option<Destruction> {
    let prose = read_source_details(details);
    match lost {
        Some(lost) => {
            let summary = summary.to_lowercase();
            let named = lost
                .iter_mut()
                .find(|l| !l.reported && summary.contains(&l.resource));
            match (named, prose) {
                (Some(found), _) => {
                    found.reported = true;
                    found.change.destruction
                }
                (None, Prose::Destroyed(d)) => Some(d),
                (None, _) => None,
            }
        }
        None => match prose {
            Prose::Destroyed(d) => Some(d),
            Prose::Safe => None,
            Prose::Unrecognised => Some(Destruction::SourceUnrecognised),
        },
    }
}

/// What the engine's own wording says (`changed_leaf_paths`: `source.repo ("a/b" → null)`).
enum Prose {
    Destroyed(Destruction),
    Safe,
    Unrecognised,
}

/// Source leaves that move a deployment without taking its source away.
const SAFE_LEAVES: [&str; 5] = [
    "source.branch",
    "source.rootDirectory",
    "source.checkSuites",
    "source.autoUpdates",
    "source.commitSha",
];

fn read_source_details(details: &[String]) -> Prose {
    let mut verdict = Prose::Unrecognised;
    for detail in details {
        let Some((path, values)) = detail.split_once(" (") else {
            if detail.to_lowercase().contains("source") {
                return Prose::Unrecognised;
            }
            continue;
        };
        if !path.starts_with("source") {
            continue;
        }
        let Some((before, after)) = values.strip_suffix(')').and_then(|v| v.split_once(" → "))
        else {
            return Prose::Unrecognised;
        };
        match path {
            "source" | "source.repo" | "source.image" | "source.type" if after == "null" => {
                return Prose::Destroyed(Destruction::SourceDetached);
            }
            "source" | "source.repo" | "source.image" | "source.type" if before != after => {
                if before != "null" {
                    verdict = Prose::Destroyed(Destruction::SourceReplaced);
                } else if matches!(verdict, Prose::Unrecognised) {
                    verdict = Prose::Safe;
                }
            }
            p if SAFE_LEAVES.contains(&p) => {
                if matches!(verdict, Prose::Unrecognised) {
                    verdict = Prose::Safe;
                }
            }
            _ => return Prose::Unrecognised,
        }
    }
    verdict
}

#[cfg(test)]
mod tests;
