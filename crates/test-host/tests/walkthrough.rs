//! The README's curl walkthrough runs as written against the component (on `serve`,
//! the test host over HTTP), so it cannot rot: every command succeeds under
//! `bash -euo pipefail`, and the answers it shows are the ones the README promises.
//! Needs `bash` and `curl` on the machine, as the walkthrough itself does.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const README: &str = include_str!("../../../README.md");

/// The shell block under the walkthrough's heading.
fn walkthrough() -> &'static str {
    block_under("### A walkthrough with curl")
}

/// The first shell block under `heading`.
fn block_under(heading: &str) -> &'static str {
    let section = README
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("the README has {heading:?}"));
    let block = section
        .split("```sh\n")
        .nth(1)
        .expect("a shell block follows the heading");
    block.split("\n```").next().unwrap()
}

/// `serve` on a free port with a database of its own, killed when dropped.
struct Server {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--port", "0", "--db"])
        .arg(dir.path().join("walkthrough.db"))
        .env(
            "SPIN_VARIABLE_JWT_SECRET",
            "walkthrough-secret-walkthrough-secret",
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // "serving <wasm> on http://127.0.0.1:PORT (database …)"
    let address = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("serve said: {first:?}"))
        .to_string();
    Server {
        child,
        address,
        _dir: dir,
    }
}

/// Runs a README block as written under `bash -euo pipefail` against a fresh `serve`,
/// and returns what it printed.
fn run_as_written(script: &str) -> String {
    let default = "API=http://127.0.0.1:3000";
    assert!(
        script.starts_with(default),
        "the block begins by naming the service"
    );
    let server = serve();
    // The one change: the service's address (the README's is `spin up`'s).
    let script = script.replacen(default, &format!("API={}", server.address), 1);
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the block failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The status codes of the `curl -si` steps, in order (a body before one ends without a
/// newline, so a status line may start mid-line).
fn statuses(stdout: &str) -> Vec<&str> {
    stdout
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| stdout.get(at + 9..at + 12))
        .collect()
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let stdout = run_as_written(walkthrough());
    let statuses = statuses(&stdout);
    assert_eq!(
        statuses,
        ["201", "204", "401", "204", "204"],
        "register, remove, the old token, logout, delete:\n{stdout}"
    );
    // And the `curl -s` steps' answers: the add, the list, the replace, the search.
    for shown in [
        r#""pokemon_id":25"#,
        r#""name":"Bulbasaur""#,
        r#""name":"Charmeleon""#,
    ] {
        assert!(stdout.contains(shown), "{shown} missing from:\n{stdout}");
    }
}

#[test]
fn the_readme_retry_example_runs_as_written() {
    let stdout = run_as_written(block_under("### Retrying a write: `Idempotency-Key`"));
    assert_eq!(
        statuses(&stdout),
        ["201", "201", "422"],
        "the add, its retry, the key reused:\n{stdout}"
    );
    // The retry is the first answer again, marked as a replay.
    let answers: Vec<&str> = stdout.split("HTTP/1.1 ").skip(1).collect();
    let lines = |answer: &str| -> Vec<String> {
        answer
            .lines()
            .map(|line| line.trim().to_ascii_lowercase())
            .filter(|line| !line.starts_with("date:") && !line.starts_with("x-request-id:"))
            .collect()
    };
    let (first, retry) = (lines(answers[0]), lines(answers[1]));
    assert!(!first.contains(&"idempotent-replayed: true".to_string()));
    let mut replayed = retry.clone();
    replayed.retain(|line| line != "idempotent-replayed: true");
    assert_eq!(replayed.len() + 1, retry.len(), "{stdout}");
    assert_eq!(
        replayed, first,
        "the same status, headers and body:\n{stdout}"
    );
    assert!(
        stdout.contains(r#""code":"idempotency_key_reused""#),
        "{stdout}"
    );
}
