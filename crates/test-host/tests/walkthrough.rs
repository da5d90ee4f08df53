//! The README's curl walkthrough runs as written against the component (on `serve`,
//! the test host over HTTP), so it cannot rot: every command succeeds under
//! `bash -euo pipefail`, and the answers it shows are the ones the README promises.
//! Needs `bash` and `curl` on the machine, as the walkthrough itself does.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const README: &str = include_str!("../../../README.md");

/// The shell block under the walkthrough's heading.
fn walkthrough() -> &'static str {
    let section = README
        .split("### A walkthrough with curl")
        .nth(1)
        .expect("the README has a walkthrough");
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

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let script = walkthrough();
    let default = "API=http://127.0.0.1:3000";
    assert!(
        script.starts_with(default),
        "the walkthrough begins by naming the service"
    );
    let server = serve();
    // The one change: the service's address (the README's is `spin up`'s).
    let script = script.replacen(default, &format!("API={}", server.address), 1);
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the walkthrough failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // The `curl -si` steps show their status lines, in the order the comments say (a
    // body before one ends without a newline, so a status line may start mid-line).
    let statuses: Vec<&str> = stdout
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| stdout.get(at + 9..at + 12))
        .collect();
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
