//! A throwaway PostgreSQL for tests and benchmarks: Debian's server binaries
//! (`postgresql` package, version 15 preferred), a cluster made by `initdb` in
//! a temporary directory, served on a free loopback port, and a fresh
//! database per caller.
//!
//! initdb refuses to run as root, and these machines run as root: then the
//! cluster belongs to the `postgres` user the package creates, and each
//! binary runs through `runuser`. The server runs under a small shell that
//! waits on a pipe from this process: when this process ends (however it
//! ends), the pipe closes, the shell stops the server and removes the
//! directory. So nothing is left behind, with no destructor needed.
//!
//! Shared by the server's tests (`server/tests/console/`) and the benchmark
//! `bench-store` (`tests/src/bin/`), which includes this file by path.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A free loopback port. Its own, not `support`'s: `make bench-store`
/// includes this file on its own.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What to say when the binaries are missing.
const INSTALL: &str = "PostgreSQL's server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): \
     run scripts/setup.sh --browser, which installs Debian's postgresql package \
     (what `make test` runs first)";

/// A running cluster.
pub struct TempPostgres {
    port: u16,
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    /// Closing it stops the server; held for the process's life.
    _lifeline: Mutex<ChildStdin>,
    _shell: Mutex<Child>,
    databases: AtomicUsize,
}

fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let preferred = root.join("15/bin");
    if preferred.join("initdb").exists() {
        return preferred;
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("{INSTALL}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl TempPostgres {
    /// The cluster this process shares (tests): started on first use, with
    /// durability off, which tests do not need.
    pub fn shared() -> &'static TempPostgres {
        static CLUSTER: OnceLock<TempPostgres> = OnceLock::new();
        CLUSTER.get_or_init(|| TempPostgres::start(false))
    }

    /// Start a cluster. `durable`: commits wait for the disk, as in
    /// production (benchmarks); otherwise fsync is off.
    pub fn start(durable: bool) -> TempPostgres {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("opsdeck-pg-")
            .tempdir()
            .unwrap()
            .keep();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "cannot hand {} to the postgres user", dir.display());
        }
        let data = dir.join("data");
        let out = Self::command(as_postgres, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .unwrap_or_else(|e| panic!("{INSTALL} ({e})"));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut settings = vec![
            "-c".to_owned(),
            "listen_addresses=127.0.0.1".to_owned(),
            "-c".to_owned(),
            "max_connections=200".to_owned(),
        ];
        if !durable {
            for s in [
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
            ] {
                settings.extend(["-c".to_owned(), s.to_owned()]);
            }
        }
        // The shell starts the server, then waits for stdin to close.
        let script = r#"dir="$1"; shift; "$@" >"$dir/log" 2>&1 & pid=$!
cat >/dev/null
kill -INT "$pid" 2>/dev/null; wait "$pid"; rm -rf "$dir""#;
        let mut shell = Self::command(as_postgres, Path::new("sh"))
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&dir)
            .arg(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(&dir)
            .args(&settings)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lifeline = shell.stdin.take().unwrap();
        let pg = TempPostgres {
            port,
            bin,
            dir,
            as_postgres,
            _lifeline: Mutex::new(lifeline),
            _shell: Mutex::new(shell),
            databases: AtomicUsize::new(0),
        };
        pg.wait_ready();
        pg
    }

    fn command(as_postgres: bool, program: &Path) -> Command {
        if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.psql("postgres", "SELECT 1").is_ok() {
                return;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
                panic!("PostgreSQL did not start within 30 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Run `sql` in `database` with psql; its output, or its error.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-X", "-A", "-t", "-q"])
            .args([
                "-p",
                &self.port.to_string(),
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .arg("-c")
            .arg(sql)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("opsdeck_{}_{n}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        self.url(&name)
    }

    /// The URL of `database`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stop the server now (rather than when this process ends).
    pub fn stop(self) {
        let mut shell = self._shell.into_inner().unwrap();
        let mut lifeline = self._lifeline.into_inner().unwrap();
        let _ = lifeline.flush();
        drop(lifeline);
        let _ = shell.wait();
    }
}
