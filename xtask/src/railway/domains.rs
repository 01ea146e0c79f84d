//! A service's public domains, as Railway lists them: the generated ones (`*.up.railway.app`)
//! and the custom ones with their DNS and certificate state (`domains(…)`, the query behind
//! `railway domain list`: railwayapp 5.71.0, `src/gql/queries/strings/Domains.graphql`).

use serde::Deserialize;
use xshell::Shell;

use super::api::Op;
use super::{Ids, Railway, RailwayError, relayed};

/// One public domain of a service. Its name is the platform's text: relayed as it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Domain {
    /// Lowercase, as browsers put it in `Origin`.
    pub(crate) name: String,
    pub(crate) custom: bool,
    /// A custom domain browsers cannot reach yet: why (DNS not verified, certificate not
    /// issued); `None` when it serves.
    pub(crate) pending: Option<String>,
}

impl Domain {
    /// `https://NAME`: the origin a page served from this domain sends.
    pub(crate) fn origin(&self) -> String {
        format!("https://{}", self.name)
    }
}

/// `domains { serviceDomains { domain } customDomains { domain status { verified
/// certificateStatus } } }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllDomains {
    service_domains: Vec<Named>,
    custom_domains: Vec<Custom>,
}

#[derive(Debug, Deserialize)]
struct Named {
    domain: String,
}

#[derive(Debug, Deserialize)]
struct Custom {
    domain: String,
    status: Option<CustomStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomStatus {
    verified: bool,
    /// `CertificateStatus` of the schema: `CERTIFICATE_STATUS_TYPE_VALID` when it serves.
    certificate_status: String,
}

impl From<AllDomains> for Vec<Domain> {
    fn from(all: AllDomains) -> Vec<Domain> {
        let name = |d: &str| relayed(d).trim().trim_end_matches('.').to_ascii_lowercase();
        let generated = all.service_domains.into_iter().map(|d| Domain {
            name: name(&d.domain),
            custom: false,
            pending: None,
        });
        let custom = all.custom_domains.into_iter().map(|d| Domain {
            name: name(&d.domain),
            custom: true,
            pending: d
                .status
                .and_then(|s| match (s.verified, s.certificate_status.as_str()) {
                    (false, _) => Some("its DNS records are not verified yet".to_owned()),
                    (true, "CERTIFICATE_STATUS_TYPE_VALID") => None,
                    (true, other) => Some(format!(
                        "its certificate is not issued yet ({})",
                        relayed(other)
                    )),
                }),
        });
        generated.chain(custom).collect()
    }
}

impl Railway {
    /// The public domains of one service of the project (none: not reachable from a browser).
    pub(crate) fn domains(
        &self,
        sh: &Shell,
        ids: &Ids,
        service_id: &str,
    ) -> Result<Vec<Domain>, RailwayError> {
        let op = Op::Domains {
            project_id: ids.project_id.clone(),
            environment_id: ids.environment_id.clone(),
            service_id: service_id.to_owned(),
        };
        let value = self.api(sh, op)?;
        Ok(self.api_json::<AllDomains>("domains", value)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_and_custom_domains_with_what_keeps_a_custom_one_from_serving() {
        let all: AllDomains = serde_json::from_value(serde_json::json!({
            "serviceDomains": [{"domain": "Web-Production.up.railway.app"}],
            "customDomains": [
                {"domain": "app.example.com", "status": {"verified": true, "certificateStatus": "CERTIFICATE_STATUS_TYPE_VALID"}},
                {"domain": "www.example.com.", "status": {"verified": false, "certificateStatus": "CERTIFICATE_STATUS_TYPE_VALIDATING_OWNERSHIP"}},
                {"domain": "new.example.com", "status": {"verified": true, "certificateStatus": "CERTIFICATE_STATUS_TYPE_ISSUING"}},
            ],
        }))
        .unwrap();
        let domains: Vec<Domain> = all.into();
        let names: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "web-production.up.railway.app",
                "app.example.com",
                "www.example.com",
                "new.example.com"
            ]
        );
        assert!(!domains[0].custom && domains[1].custom);
        assert_eq!(domains[1].pending, None);
        assert!(domains[2].pending.as_deref().unwrap().contains("DNS"));
        assert!(domains[3].pending.as_deref().unwrap().contains("ISSUING"));
        assert_eq!(domains[1].origin(), "https://app.example.com");
    }
}
