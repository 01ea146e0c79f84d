//! The real CLI's command line, for the commands the wrapper uses.
//!
//! Names, short flags, aliases, defaults and conflicts are those of railwayapp 5.71.0
//! (`src/commands/{status,variable,redeploy,up,deployment,service,logs,api,domain}.rs`,
//! `src/commands/config/mod.rs`), so that a call
//! the real CLI rejects is rejected here too, by clap, with exit code 2. Flags the fake
//! accepts but cannot honour are refused at run time with a `fake-railway:` message.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "railway",
    about = "Interact with Railway via CLI",
    propagate_version = true
)]
pub(crate) struct Railway {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// Parses `argv` (without the program name) the way the real CLI does, announcing `version`.
pub(crate) fn parse(version: &str, argv: &[String]) -> Result<Railway, clap::Error> {
    // clap (built without its `string` feature) only takes a `'static` version; the process
    // is about to exit anyway, so leaking one short string is harmless.
    let version: &'static str = Box::leak(version.to_owned().into_boxed_str());
    let matches = Railway::command()
        .version(version)
        .try_get_matches_from(std::iter::once("railway".to_owned()).chain(argv.iter().cloned()))?;
    Railway::from_arg_matches(&matches)
}

/// Prints the root help, as the real CLI does when called without a subcommand.
pub(crate) fn print_help(version: &str) -> std::io::Result<()> {
    let version: &'static str = Box::leak(version.to_owned().into_boxed_str());
    Railway::command().version(version).print_help()
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show information about a Railway project
    Status(StatusArgs),
    /// Manage environment variables for a service
    #[command(visible_aliases = ["variables", "vars", "var"])]
    Variable(VariableArgs),
    /// Redeploy the latest deployment of a service
    Redeploy(RedeployArgs),
    /// Upload and deploy project from the current directory
    Up(UpArgs),
    /// Manage deployments
    #[command(visible_alias = "deployments")]
    Deployment(DeploymentArgs),
    /// Manage services
    Service(ServiceArgs),
    /// View build, deploy, HTTP, network flow, or DNS logs
    Logs(LogsArgs),
    /// Query the Railway public GraphQL API
    Api(ApiArgs),
    /// Manage Railway configuration and IaC ownership
    Config(ConfigArgs),
    /// Add, list, inspect, update, or delete domains for a service
    Domain(DomainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ApiCommand>,
    /// GraphQL query or mutation document. If omitted, stdin is used when piped.
    #[arg(value_name = "QUERY", allow_hyphen_values = true)]
    pub(crate) query: Option<String>,
    /// Read the GraphQL document from a file. Use '-' to read from stdin.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) file: Option<String>,
    /// JSON variables object, or @PATH to read JSON from a file. Use @- for stdin.
    #[arg(long, value_name = "JSON|@PATH")]
    pub(crate) variables: Option<String>,
    /// Set a typed variable as KEY=VALUE. VALUE is parsed as JSON when possible.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub(crate) vars: Vec<String>,
    /// Set a string variable as KEY=VALUE.
    #[arg(long = "raw-var", value_name = "KEY=VALUE")]
    pub(crate) raw_vars: Vec<String>,
    /// GraphQL operation name to execute when the document contains multiple operations.
    #[arg(long, value_name = "NAME")]
    pub(crate) operation_name: Option<String>,
    /// Print compact JSON.
    #[arg(long)]
    pub(crate) compact: bool,
    /// Exit successfully even when the GraphQL response has an errors array.
    #[arg(long)]
    pub(crate) allow_errors: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiCommand {
    /// Print the live GraphQL introspection schema
    Schema {
        /// Print compact JSON.
        #[arg(long)]
        compact: bool,
    },
    /// Search GraphQL types and fields
    Search {
        /// Search term.
        term: String,
        /// Maximum number of results to print.
        #[arg(long, default_value_t = 25, value_name = "N")]
        limit: usize,
        /// Print compact JSON.
        #[arg(long)]
        compact: bool,
    },
    /// Describe a GraphQL type or field
    Describe {
        /// Type name, root field name, or Parent.field.
        name: String,
        /// Print compact JSON.
        #[arg(long)]
        compact: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub(crate) command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Preview the changes Railway would make from the authoring file without applying them
    Plan(ConfigSharedArgs),
    /// Apply the changes from the authoring file to the linked Railway project
    Apply(ConfigSharedArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigSharedArgs {
    /// Path to the Railway configuration file. Defaults to nearest .railway/railway.{ts,py,go}.
    #[arg(long)]
    pub(crate) file: Option<PathBuf>,
    /// Environment name or ID. Defaults to the linked environment.
    #[arg(long, value_name = "name|id")]
    pub(crate) environment: Option<String>,
    /// Output raw runner JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Confirm prompts and proceed non-interactively.
    #[arg(long)]
    pub(crate) yes: bool,
    /// Allow destructive applies in non-interactive or agent sessions.
    #[arg(long)]
    pub(crate) confirm_destructive: bool,
    /// Ask Railway to decrypt variables while planning, when authorized.
    #[arg(long)]
    pub(crate) decrypt_variables: bool,
    /// Include generated graph TypeScript types in runner output.
    #[arg(long)]
    pub(crate) include_types: bool,
    /// Optional TypeScript runner binary.
    #[arg(long)]
    pub(crate) runner: Option<String>,
    /// Show full change details.
    #[arg(long, alias = "full")]
    pub(crate) verbose: bool,
    /// Exit 2 when changes are pending, 0 when none (plan only). For CI gating.
    #[arg(long)]
    pub(crate) detailed_exit_code: bool,
    /// Print variable values in the plan instead of redacting them.
    #[arg(long)]
    pub(crate) show_values: bool,
    /// Write a pinned plan artifact. Plan only.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Apply this pinned plan without re-evaluating the authoring file. Apply only.
    #[arg(long)]
    pub(crate) plan: Option<PathBuf>,
    /// Tree written into `--out`.
    #[arg(long)]
    pub(crate) source_tree: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Project ID/name to inspect (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Environment to inspect for human-readable resource details
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Output in JSON format
    #[arg(long)]
    pub(crate) json: bool,
}

/// The same flags at two levels: `variable list …` and the legacy `variables …`.
#[derive(Debug, Args)]
pub(crate) struct VariableArgs {
    #[command(subcommand)]
    pub(crate) command: Option<VariableCommand>,
    /// The service to show/set variables for
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// The environment to show/set variables for
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Show variables in KV format. This prints raw values.
    #[arg(short, long)]
    pub(crate) kv: bool,
    /// The "{key}={value}" environment variable pair to set the service variables (legacy, use 'variable set' instead)
    #[arg(long)]
    pub(crate) set: Vec<String>,
    /// Set a variable with the value read from stdin (legacy, use 'variable set --stdin' instead)
    #[arg(long, value_name = "KEY")]
    pub(crate) set_from_stdin: Option<String>,
    /// Output in JSON format. Variable list JSON includes raw values.
    #[arg(long)]
    pub(crate) json: bool,
    /// Skip triggering deploys when setting variables
    #[arg(long)]
    pub(crate) skip_deploys: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VariableCommand {
    /// List variables for a service
    #[command(visible_alias = "ls")]
    List(VariableListArgs),
    /// Set a variable
    Set(VariableSetArgs),
    /// Delete a variable
    #[command(visible_aliases = ["rm", "remove"])]
    Delete(VariableDeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VariableListArgs {
    /// The service to list variables for
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// The environment to list variables from
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Show variables in KV format. This prints raw values.
    #[arg(short, long)]
    pub(crate) kv: bool,
    /// Output in JSON format. This includes raw values.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VariableSetArgs {
    /// Variable(s) in KEY=VALUE format, or just KEY when using --stdin
    #[arg(required = true)]
    pub(crate) variables: Vec<String>,
    /// The service to set the variable for
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// The environment to set the variable in
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Read the value from stdin instead of the command line (only with single KEY)
    #[arg(long)]
    pub(crate) stdin: bool,
    /// Skip triggering deploys when setting the variable
    #[arg(long)]
    pub(crate) skip_deploys: bool,
    /// Output in JSON format
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VariableDeleteArgs {
    /// The variable key to delete
    pub(crate) key: String,
    /// The service to delete the variable from
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// The environment to delete the variable from
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Output in JSON format
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RedeployArgs {
    /// The service ID/name to redeploy from
    #[arg(long, short)]
    pub(crate) service: Option<String>,
    /// Environment to redeploy in (defaults to linked environment)
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Skip confirmation dialog
    #[arg(short = 'y', long = "yes")]
    pub(crate) bypass: bool,
    /// Output in JSON format
    #[arg(long)]
    pub(crate) json: bool,
    /// Pull and deploy the latest commit or image from the configured source, instead of redeploying the existing deployment
    #[arg(long, conflicts_with = "commit")]
    pub(crate) from_source: bool,
    /// Deploy a specific commit from the connected repository once, without pinning it
    #[arg(long, value_name = "SHA", conflicts_with = "from_source")]
    pub(crate) commit: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    pub(crate) path: Option<PathBuf>,
    /// Don't attach to the log stream — start the deploy and return immediately
    #[arg(short, long, alias = "no-wait")]
    pub(crate) detach: bool,
    /// Accept all defaults
    #[arg(short = 'y', long)]
    pub(crate) yes: bool,
    /// Stream build logs only, then exit (equivalent to setting $CI=true).
    #[arg(short, long)]
    pub(crate) ci: bool,
    /// Service to deploy to (defaults to linked service)
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// Environment to deploy to (defaults to linked environment)
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to deploy to (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Workspace to create a new project in (first-run / --new)
    #[arg(short, long)]
    pub(crate) workspace: Option<String>,
    /// Create a NEW project + service from this directory and deploy it
    #[arg(long)]
    pub(crate) new: bool,
    /// Name for a newly created project
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Don't ignore paths from .gitignore
    #[arg(long)]
    pub(crate) no_gitignore: bool,
    /// Use the path argument as the prefix for the archive instead of the project directory.
    #[arg(long)]
    pub(crate) path_as_root: bool,
    /// Verbose output
    #[arg(long)]
    pub(crate) verbose: bool,
    /// Output logs in JSON format (implies CI mode behavior)
    #[arg(long)]
    pub(crate) json: bool,
    /// Message to attach to the deployment
    #[arg(short, long)]
    pub(crate) message: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DeploymentArgs {
    #[command(subcommand)]
    pub(crate) command: DeploymentCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DeploymentCommand {
    /// List deployments for a service with IDs, statuses and other metadata
    #[command(visible_alias = "ls")]
    List(DeploymentListArgs),
    /// Upload and deploy project from the current directory
    #[command(visible_alias = "deploy")]
    Up(UpArgs),
    /// Redeploy the latest deployment of a service
    Redeploy(RedeployArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DeploymentListArgs {
    /// Service name or ID to list deployments for (defaults to linked service)
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// Environment to list deployments from (defaults to linked environment)
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID or name to list deployments from (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT")]
    pub(crate) project: Option<String>,
    /// Maximum number of deployments to show (default: 20, max: 1000)
    #[arg(long, default_value = "20")]
    pub(crate) limit: i64,
    /// Output in JSON format
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServiceArgs {
    #[command(subcommand)]
    pub(crate) command: Option<ServiceCommand>,
    /// The service ID/name to link (deprecated: use 'service link' instead)
    pub(crate) service: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Show deployment status for services
    Status(ServiceStatusArgs),
    /// View logs from a service
    Logs(LogsArgs),
    /// Redeploy the latest deployment of a service
    Redeploy(RedeployArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServiceStatusArgs {
    /// Service name or ID to show status for (defaults to linked service)
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Deprecated: use `railway service list` instead. Kept for backwards compatibility.
    #[arg(short, long, hide = true)]
    pub(crate) all: bool,
    /// Environment to check status in (defaults to linked environment)
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Output in JSON format
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Service to view logs from (defaults to linked service). Can be service name or service ID
    #[arg(short, long)]
    pub(crate) service: Option<String>,
    /// Environment to view logs from (defaults to linked environment). Can be environment name or environment ID
    #[arg(short, long)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(short = 'p', long, value_name = "PROJECT_ID")]
    pub(crate) project: Option<String>,
    /// Show deployment logs
    #[arg(short, long, group = "log_type")]
    pub(crate) deployment: bool,
    /// Show build logs
    #[arg(short, long, group = "log_type")]
    pub(crate) build: bool,
    /// Show HTTP request logs
    #[arg(long, group = "log_type")]
    pub(crate) http: bool,
    /// Show network flow logs
    #[arg(long, group = "log_type")]
    pub(crate) network: bool,
    /// Show DNS query logs
    #[arg(long, group = "log_type")]
    pub(crate) dns: bool,
    /// Deployment ID to view logs from. Defaults to most recent successful deployment, or latest deployment if none succeeded
    pub(crate) deployment_id: Option<String>,
    /// Output logs in JSON format. Each log line becomes a JSON object with timestamp, message, and any other attributes
    #[arg(long)]
    pub(crate) json: bool,
    /// Number of log lines to fetch (disables streaming)
    #[arg(short = 'n', long = "lines", visible_alias = "tail")]
    pub(crate) lines: Option<i64>,
    /// Filter logs using Railway's query syntax
    #[arg(short = 'f', long)]
    pub(crate) filter: Option<String>,
    /// Always show logs from the latest deployment, even if it failed or is still building
    #[arg(long)]
    pub(crate) latest: bool,
    /// Show logs since a specific time (disables streaming). Accepts relative times (e.g., 30s, 5m, 2h, 1d, 1w) or ISO 8601 timestamps (e.g., 2024-01-15T10:30:00Z)
    #[arg(long, short = 'S', value_name = "TIME")]
    pub(crate) since: Option<String>,
    /// Show logs until a specific time (disables streaming). Same formats as --since
    #[arg(long, short = 'U', value_name = "TIME")]
    pub(crate) until: Option<String>,
}

/// `domain` (src/commands/domain.rs): the wrapper never runs it, but its fixes name it
/// (`railway domain --service S --environment E` generates a domain), so the fake accepts
/// exactly what the real one accepts.
#[derive(Debug, Args)]
pub(crate) struct DomainArgs {
    #[command(subcommand)]
    pub(crate) command: Option<DomainCommand>,
    /// The port to connect to the domain when creating a domain
    #[arg(short, long, value_parser = parse_port)]
    pub(crate) port: Option<u16>,
    /// The name of the service to manage domains for
    #[arg(short, long, global = true)]
    pub(crate) service: Option<String>,
    /// Environment to use (defaults to linked environment)
    #[arg(short, long, global = true)]
    pub(crate) environment: Option<String>,
    /// Project ID to use (defaults to linked project)
    #[arg(long, value_name = "PROJECT_ID", global = true)]
    pub(crate) project: Option<String>,
    /// Optionally, specify a custom domain to use. If not specified, a domain will be generated.
    pub(crate) domain: Option<String>,
    /// Output in JSON format
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DomainCommand {
    /// List domains for a service
    #[command(visible_alias = "ls")]
    List,
    /// Show status and DNS details for a domain
    Status {
        /// Domain name, URL, or domain ID
        #[arg(value_name = "DOMAIN_OR_ID")]
        domain: String,
    },
    /// Delete a custom or service domain
    #[command(visible_alias = "remove", visible_alias = "rm")]
    Delete {
        /// Domain name, URL, or domain ID
        #[arg(value_name = "DOMAIN_OR_ID")]
        domain: String,
        /// Skip confirmation dialog
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Update a domain
    #[command(visible_alias = "edit")]
    Update {
        /// Domain name, URL, or domain ID
        #[arg(value_name = "DOMAIN_OR_ID")]
        identifier: String,
        /// The target port to route HTTP traffic to
        #[arg(long, value_parser = parse_port)]
        port: Option<u16>,
        /// Rename a Railway-provided service domain. Accepts a full service domain or host label.
        #[arg(long = "domain", value_name = "DOMAIN")]
        new_domain: Option<String>,
    },
    /// Manage custom domain certificates
    Certificate {
        #[command(subcommand)]
        command: CertificateCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CertificateCommand {
    /// Retry certificate issuance for a custom domain
    Retry {
        /// Domain name, URL, or domain ID
        #[arg(value_name = "DOMAIN_OR_ID")]
        domain: String,
    },
}

/// `parse_port` of src/commands/domain.rs.
fn parse_port(value: &str) -> Result<u16, String> {
    match value.parse::<u16>() {
        Ok(0) | Err(_) => Err("port must be a number from 1 to 65535".to_owned()),
        Ok(port) => Ok(port),
    }
}
