//! A `redis-server` started for a test on a free loopback port in a temp dir, for the tests of the
//! Redis slot ledger (`kis`) and of services sharing one key through it (`kiswatch`, which includes
//! this file by path). Without `redis-server` a test is skipped, saying why — except under `CI`,
//! where it fails (`make test` installs Debian's `redis-server`).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

/// A `redis-server` of one test: its own port, dir and no persistence; killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one, or says why not: `None` (skip) without `redis-server`, a panic under `CI`.
    pub fn start(name: &str) -> Option<RedisServer> {
        let exists = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed (apt-get install -y redis-server): required under CI"
            );
            eprintln!("SKIPPED {name}: redis-server is not installed (apt-get install -y redis-server)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let dir = tempfile::Builder::new()
            .prefix(&format!("redis-{name}-"))
            .tempdir()
            .unwrap();
        let mut server = RedisServer {
            child: None,
            port,
            dir,
        };
        server.run();
        Some(server)
    }

    /// Starts the server on its port and waits for its "ready" line.
    pub fn run(&mut self) {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--logfile", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(_) => continue,
                None => panic!("redis-server exited before it was ready"),
            }
        }
        // Keep draining its log so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
