//! The ids the API needs, from `railway status --json`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::RailwayError;

/// The ids `railway status --json` gives: project, the target environment and service, and
/// every service of the project by name (references name services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ids {
    pub(crate) project_id: String,
    pub(crate) environment_id: String,
    pub(crate) service_id: String,
    /// Name → id, every service of the project.
    pub(crate) services: BTreeMap<String, String>,
}

impl Ids {
    /// From `status --json`: `{id, environments.edges[].node{id,name},
    /// services.edges[].node{id,name}}`. Services match ignoring case, as the CLI matches them.
    pub(crate) fn from_status(
        status: &Value,
        environment: &str,
        service: &str,
    ) -> Result<Ids, RailwayError> {
        let edges = |key: &str| -> Vec<(String, String)> {
            status
                .pointer(&format!("/{key}/edges"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let node = e.get("node")?;
                    Some((
                        node.get("name")?.as_str()?.to_owned(),
                        node.get("id")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        };
        let project_id = status
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| RailwayError::Unexpected {
                command: "status".into(),
                detail: "no project `id` in `status --json`".into(),
            })?
            .to_owned();
        let environment_id = edges("environments")
            .into_iter()
            .find(|(name, id)| name == environment || id == environment)
            .map(|(_, id)| id)
            .ok_or_else(|| RailwayError::EnvironmentNotFound {
                name: environment.to_owned(),
            })?;
        let services: BTreeMap<String, String> = edges("services").into_iter().collect();
        let service_id = services
            .iter()
            .find(|(name, id)| name.eq_ignore_ascii_case(service) || *id == service)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| RailwayError::ServiceNotFound {
                name: service.to_owned(),
            })?;
        Ok(Ids {
            project_id,
            environment_id,
            service_id,
            services,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_come_from_status_json() {
        let status = json!({
            "id": "prj-1",
            "environments": {"edges": [{"node": {"id": "env-p", "name": "production"}}]},
            "services": {"edges": [{"node": {"id": "svc-b", "name": "backend"}}, {"node": {"id": "svc-pg", "name": "Postgres"}}]},
        });
        let ids = Ids::from_status(&status, "production", "Backend").unwrap();
        assert_eq!(
            (
                ids.project_id.as_str(),
                ids.environment_id.as_str(),
                ids.service_id.as_str()
            ),
            ("prj-1", "env-p", "svc-b")
        );
        assert_eq!(ids.services.len(), 2);
        assert!(matches!(
            Ids::from_status(&status, "staging", "backend"),
            Err(RailwayError::EnvironmentNotFound { .. })
        ));
        assert!(matches!(
            Ids::from_status(&status, "production", "web"),
            Err(RailwayError::ServiceNotFound { .. })
        ));
    }
}
