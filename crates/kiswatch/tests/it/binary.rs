//! Helpers for tests that run the real `kiswatch` binary as a child process.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Kills the child when the test ends, whatever happens.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` (a `kiswatch serve`) with its stdout piped and reads the banner it prints once
/// it listens, failing the test if that takes longer than `within`: the running child, the URL the
/// banner says to open, the banner. Stdout is read to the end on a thread of its own (as bytes: a
/// line need not be UTF-8), so the service never blocks on a full pipe.
pub fn start(command: &mut Command, within: Duration) -> (Running, String, String) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut banner = Vec::new();
        let mut line = Vec::new();
        let mut sent = false;
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            if !sent {
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                let end = text.contains("Ctrl-C");
                banner.push(text);
                if end {
                    let _ = tx.send(std::mem::take(&mut banner));
                    sent = true;
                }
            }
            line.clear();
        }
    });
    let banner = rx
        .recv_timeout(within)
        .unwrap_or_else(|_| panic!("the banner within {within:?}"))
        .join("\n");
    let url = banner
        .split_whitespace()
        .skip_while(|w| *w != "open")
        .nth(1)
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("the URL to open: {banner}"))
        .to_string();
    (running, url, banner)
}

/// A plain HTTP/1.1 GET; the status code and the body.
pub fn http_get(base: &str, path: &str) -> (u16, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
