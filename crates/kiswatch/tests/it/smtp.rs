//! A real SMTP server for the e-mail channel: `tests/python/smtp.sh` (aiosmtpd in a throwaway
//! virtualenv). Where Python or its venv module is missing the test is skipped with the reason
//! printed — except under CI (`CI` set, as `.ci/run`'s caller sets `CI=true`), where that is a failure.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

pub struct Smtp {
    pub port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Smtp {
    /// The server, or `None` (skipped, reason printed) where it cannot run.
    pub async fn start() -> Option<Smtp> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python/smtp.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("bash runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(180), lines.next_line())
            .await
            .expect("the SMTP server starts (or says why not) within 3 minutes")
            .unwrap()
            .unwrap_or_default();
        if let Some(reason) = first.strip_prefix("SKIPPED: ") {
            assert!(
                !matches!(std::env::var("CI").as_deref(), Ok(v) if !v.is_empty() && v != "false" && v != "0"),
                "the e-mail channel's SMTP test cannot run under CI: {reason}"
            );
            eprintln!("e-mail channel test SKIPPED: {reason}");
            return None;
        }
        let port = first
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server's first line: {first:?}"));
        Some(Smtp {
            port,
            lines,
            _child: child,
        })
    }

    /// The next message received.
    pub async fn next_message(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("a message within 30 s")
            .unwrap()
            .expect("the SMTP server is running");
        serde_json::from_str(&line).unwrap()
    }
}
