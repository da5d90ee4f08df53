//! `spin.toml` (manifest version 2) as far as the test host needs it, and the
//! `fermyon:spin/variables` rules that Spin applies to it.
//!
//! Reading the real manifest means a wrong one (a missing database label, a variable
//! mapped to nothing, a required secret without a value) fails the tests the way it
//! would fail `spin up`.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, ensure, Context};

/// An application variable (`[variables] name = { ... }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppVariable {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

/// The parts of a Spin manifest with exactly one component that the host uses.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub component_id: String,
    /// The component's `source`, if it is a plain path.
    pub source: Option<String>,
    /// The component's `sqlite_databases` (empty when absent).
    pub sqlite_databases: Vec<String>,
    /// Routes of the `[[trigger.http]]` entries for the component.
    pub routes: Vec<String>,
    pub app_variables: BTreeMap<String, AppVariable>,
    /// `[component.<id>.variables]`: name → template such as `"{{ jwt_secret }}"`.
    pub component_variables: BTreeMap<String, String>,
    /// The component's `environment`: its WASI environment variables, as Spin sets them.
    pub environment: BTreeMap<String, String>,
}

impl Manifest {
    /// Parse and validate manifest text.
    pub fn parse(text: &str) -> anyhow::Result<Manifest> {
        let doc: toml::Table = text.parse().context("spin.toml is not valid TOML")?;

        let version = doc
            .get("spin_manifest_version")
            .and_then(toml::Value::as_integer);
        ensure!(
            version == Some(2),
            "spin_manifest_version must be 2, found {:?}",
            doc.get("spin_manifest_version")
        );

        let components = doc
            .get("component")
            .and_then(toml::Value::as_table)
            .ok_or_else(|| anyhow!("spin.toml has no [component.<id>] table"))?;
        ensure!(
            components.len() == 1,
            "the test host expects exactly one component, found {}",
            components.len()
        );
        let (component_id, component) = components
            .iter()
            .next()
            .ok_or_else(|| anyhow!("spin.toml has no component"))?;
        let component = component
            .as_table()
            .ok_or_else(|| anyhow!("[component.{component_id}] is not a table"))?;

        let source = component
            .get("source")
            .and_then(toml::Value::as_str)
            .map(str::to_string);
        let sqlite_databases = string_list(component.get("sqlite_databases"))
            .with_context(|| format!("component.{component_id}.sqlite_databases"))?;

        let routes = doc
            .get("trigger")
            .and_then(|t| t.get("http"))
            .and_then(toml::Value::as_array)
            .map(|triggers| {
                triggers
                    .iter()
                    .filter(|t| {
                        t.get("component").and_then(toml::Value::as_str) == Some(component_id)
                    })
                    .filter_map(|t| t.get("route").and_then(toml::Value::as_str))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        ensure!(
            !routes.is_empty(),
            "no [[trigger.http]] routes to component {component_id:?}"
        );

        let mut app_variables = BTreeMap::new();
        if let Some(vars) = doc.get("variables") {
            let vars = vars
                .as_table()
                .ok_or_else(|| anyhow!("[variables] is not a table"))?;
            for (name, decl) in vars {
                validate_name(name).map_err(|e| anyhow!("[variables]: {e}"))?;
                let decl = decl
                    .as_table()
                    .ok_or_else(|| anyhow!("variable {name:?} must be a table"))?;
                let default = match decl.get("default") {
                    None => None,
                    Some(v) => Some(
                        v.as_str()
                            .ok_or_else(|| anyhow!("variable {name:?}: default must be a string"))?
                            .to_string(),
                    ),
                };
                let required = decl
                    .get("required")
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false);
                let secret = decl
                    .get("secret")
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false);
                ensure!(
                    !(required && default.is_some()),
                    "variable {name:?} cannot be both required and have a default"
                );
                ensure!(
                    required || default.is_some(),
                    "variable {name:?} must be required or have a default"
                );
                app_variables.insert(
                    name.clone(),
                    AppVariable {
                        default,
                        required,
                        secret,
                    },
                );
            }
        }

        let mut component_variables = BTreeMap::new();
        if let Some(vars) = component.get("variables") {
            let vars = vars
                .as_table()
                .ok_or_else(|| anyhow!("component.{component_id}.variables is not a table"))?;
            for (name, template) in vars {
                validate_name(name)
                    .map_err(|e| anyhow!("component.{component_id}.variables: {e}"))?;
                let template = template
                    .as_str()
                    .ok_or_else(|| anyhow!("component variable {name:?} must be a string"))?;
                // Spin checks templates against the declared variables at load time.
                for reference in template_references(template)? {
                    ensure!(
                        app_variables.contains_key(&reference),
                        "component variable {name:?} refers to undeclared variable {reference:?}"
                    );
                }
                component_variables.insert(name.clone(), template.to_string());
            }
        }

        let mut environment = BTreeMap::new();
        if let Some(vars) = component.get("environment") {
            let vars = vars
                .as_table()
                .ok_or_else(|| anyhow!("component.{component_id}.environment is not a table"))?;
            for (name, value) in vars {
                let value = value
                    .as_str()
                    .ok_or_else(|| anyhow!("environment variable {name:?} must be a string"))?;
                environment.insert(name.clone(), value.to_string());
            }
        }

        Ok(Manifest {
            environment,
            component_id: component_id.clone(),
            source,
            sqlite_databases,
            routes,
            app_variables,
            component_variables,
        })
    }

    /// Resolve every component variable against the provided values (like
    /// `SPIN_VARIABLE_<NAME>`), failing the way `spin up` does when a required
    /// variable has no value.
    pub fn resolve_variables(
        &self,
        provided: &[(String, String)],
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let mut app_values = BTreeMap::new();
        for (name, decl) in &self.app_variables {
            // The last provided value wins, like a later provider overriding an earlier one.
            let value = provided
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .or_else(|| decl.default.clone());
            match value {
                Some(v) => {
                    app_values.insert(name.as_str(), v);
                }
                None if decl.required => {
                    bail!("no provider resolved required variable {name:?}")
                }
                None => {}
            }
        }
        let mut resolved = BTreeMap::new();
        for (name, template) in &self.component_variables {
            resolved.insert(name.clone(), render(template, &app_values)?);
        }
        Ok(resolved)
    }
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and `_`, starting
/// with a letter, no `__`, not ending in `_`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("variable name must not be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid variable name {name:?}: invalid character {c:?}; names may contain only lowercase letters, digits and underscores"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "invalid variable name {name:?}: must start with a letter"
        ));
    }
    if name.ends_with('_') || name.contains("__") {
        return Err(format!(
            "invalid variable name {name:?}: must not end with or contain double underscores"
        ));
    }
    Ok(())
}

fn string_list(value: Option<&toml::Value>) -> anyhow::Result<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .as_array()
        .ok_or_else(|| anyhow!("must be a list of strings"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("must be a list of strings"))
        })
        .collect()
}

/// The names a template refers to with `{{ name }}`.
fn template_references(template: &str) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("unterminated '{{{{' in template {template:?}"))?;
        let name = after[..end].trim();
        validate_name(name).map_err(|e| anyhow!("template {template:?}: {e}"))?;
        names.push(name.to_string());
        rest = &after[end + 2..];
    }
    Ok(names)
}

fn render(template: &str, values: &BTreeMap<&str, String>) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("unterminated '{{{{' in template {template:?}"))?;
        let name = after[..end].trim();
        let value = values
            .get(name)
            .ok_or_else(|| anyhow!("no value for variable {name:?}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
