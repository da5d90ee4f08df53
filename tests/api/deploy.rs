//! The deploy kit holds: `deploy/spinapp.yaml` is a SpinApp the Spin Operator accepts (it
//! validates against the operator's CRD schema, `deploy/crd/`, with unknown fields
//! refused as `kubectl apply --validate=strict` refuses them), its probes are the health
//! routes, and its variables are the ones `spin.toml` declares, the secret one from a
//! Secret. And the README's `spin build --up` builds what CI builds.

use serde_json::{json, Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

const CRD: &str = include_str!("../../deploy/crd/core.spinkube.dev_spinapps.yaml");
const SPINAPP: &str = include_str!("../../deploy/spinapp.yaml");
const SPIN_TOML: &str = include_str!("../../spin.toml");

/// A YAML document as JSON (what the API server stores).
fn json_of(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let key = key.as_str().expect("a mapping's keys are strings");
                    (key.to_string(), json_of(value))
                })
                .collect(),
        ),
        Yaml::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        Yaml::String(text) => json!(text),
        Yaml::Integer(n) => json!(n),
        Yaml::Real(text) => json!(text.parse::<f64>().expect("a number")),
        Yaml::Boolean(b) => json!(b),
        Yaml::Null => Value::Null,
        other => panic!("unsupported YAML node {other:?}"),
    }
}

fn load(text: &str) -> Value {
    let docs = YamlLoader::load_from_str(text).expect("valid YAML");
    assert_eq!(docs.len(), 1, "one document");
    json_of(&docs[0])
}

/// An object schema that lists its properties and says nothing of others closes to
/// them: the API server would prune an unknown field (a typo) silently, and strict
/// validation refuses it, so this test does too.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let open = map.contains_key("additionalProperties")
                || map.contains_key("x-kubernetes-preserve-unknown-fields");
            if map.contains_key("properties") && !open {
                map.insert("additionalProperties".into(), json!(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// The CRD's served version and its schema, made strict.
fn spinapp_schema() -> (String, Value) {
    let crd = load(CRD);
    assert_eq!(crd["spec"]["names"]["kind"], "SpinApp");
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["served"] == true && v["storage"] == true)
        .expect("a served storage version")
        .clone();
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    let api_version = format!(
        "{}/{}",
        crd["spec"]["group"].as_str().unwrap(),
        version["name"].as_str().unwrap()
    );
    (api_version, schema)
}

/// What the schema says of `document`: nothing if it is valid.
fn errors(schema: &Value, document: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("the CRD schema compiles");
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_spinapp_validates_against_the_operators_crd() {
    let (api_version, schema) = spinapp_schema();
    let app = load(SPINAPP);
    assert_eq!(app["apiVersion"], api_version.as_str());
    assert_eq!(app["kind"], "SpinApp");
    assert_eq!(errors(&schema, &app), Vec::<String>::new());
}

#[test]
fn the_validation_refuses_what_the_operator_would_refuse_or_drop() {
    let (_, schema) = spinapp_schema();
    let app = load(SPINAPP);
    let mut typo = app.clone();
    typo["spec"]["replica"] = json!(3);
    let mut no_image = app.clone();
    no_image["spec"].as_object_mut().unwrap().remove("image");
    let mut wrong_type = app.clone();
    wrong_type["spec"]["replicas"] = json!("two");
    let mut probe_typo = app;
    probe_typo["spec"]["checks"]["readiness"]["httpGet"]["pth"] = json!("/health");
    for (what, broken) in [
        ("an unknown field", typo),
        ("no image", no_image),
        ("a string for a number", wrong_type),
        ("an unknown probe field", probe_typo),
    ] {
        assert!(!errors(&schema, &broken).is_empty(), "{what} passed");
    }
}

#[test]
fn the_probes_are_the_health_routes_and_the_store_is_libsql() {
    let app = load(SPINAPP);
    let checks = &app["spec"]["checks"];
    assert_eq!(checks["liveness"]["httpGet"]["path"], "/health/live");
    assert_eq!(checks["readiness"]["httpGet"]["path"], "/health");
    let databases = app["spec"]["runtimeConfig"]["sqliteDatabases"]
        .as_array()
        .unwrap();
    assert_eq!(databases.len(), 1);
    assert_eq!(
        databases[0]["name"], "default",
        "the label spin.toml grants"
    );
    assert_eq!(databases[0]["type"], "libsql");
    let options: Map<String, Value> = databases[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o.clone()))
        .collect();
    assert!(options["url"]["value"].is_string());
    assert!(
        options["token"]["valueFrom"]["secretKeyRef"].is_object(),
        "the database token comes from a Secret"
    );
}

#[test]
fn the_spinapp_sets_exactly_the_variables_spin_toml_declares() {
    let manifest: toml::Table = SPIN_TOML.parse().expect("spin.toml parses");
    let declared = manifest["variables"].as_table().unwrap();
    let app = load(SPINAPP);
    let set: Map<String, Value> = app["spec"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v.clone()))
        .collect();
    let declared_names: Vec<&String> = declared.keys().collect();
    let set_names: Vec<&String> = set.keys().collect();
    assert_eq!(set_names, declared_names, "every variable, and no other");
    for (name, spec) in declared {
        let secret = spec.get("secret").and_then(|s| s.as_bool()) == Some(true);
        if secret {
            assert!(
                set[name]["valueFrom"]["secretKeyRef"].is_object(),
                "{name} is secret: it must come from a Secret, never a literal"
            );
            assert!(set[name].get("value").is_none(), "{name}");
        }
    }
}

#[test]
fn spin_build_runs_what_the_readme_test_command_builds() {
    // `spin build --up` (the README's first command) runs spin.toml's build command; the
    // README's test command (CI's) starts with the same one, so CI proves it works.
    let manifest: toml::Table = SPIN_TOML.parse().unwrap();
    let build = manifest["component"]["pokefavs"]["build"]["command"]
        .as_str()
        .unwrap();
    let readme = include_str!("../../README.md");
    let test_command = readme
        .split("<!-- test-command -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /test-command -->").next())
        .expect("the README marks its test command");
    assert!(
        test_command.contains(&format!("{build} && cargo test --workspace")),
        "spin.toml builds with `{build}`; the README's test command should run exactly that first"
    );
    assert!(readme.contains("spin build --up"));
}
