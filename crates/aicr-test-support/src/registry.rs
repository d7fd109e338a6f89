//! A real OCI registry on loopback for tests: the CNCF distribution
//! registry (Debian's `docker-registry`, `/usr/bin/docker-registry`), run
//! with a generated `config.yml` on a free port, its storage in a
//! temporary directory, optionally with TLS (a throw-away CA and server
//! certificate made by `openssl`) and HTTP basic authentication (a bcrypt
//! `htpasswd` made by `htpasswd -B`). Dropping the [`Registry`] stops it.
//!
//! Tests that need these tools call [`tools_or_skip`] first: with the
//! tools it returns true; without them it prints why and returns false,
//! unless `AICR_REQUIRE_REAL_TOOLS` is set, when it panics (CI must not
//! skip). `scripts/install_real_tools.sh` installs them.
//!
//! ```no_run
//! use aicr_test_support::registry::{Registry, RegistryConfig, tools_or_skip};
//!
//! if !tools_or_skip(&["docker-registry"]) { return; }
//! let registry = Registry::start(&RegistryConfig::default());
//! assert!(registry.host.starts_with("127.0.0.1:"));
//! ```

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to run the registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// Serve HTTPS with a certificate from a fresh CA ([`Registry::ca_file`]).
    pub tls: bool,
    /// Require HTTP basic authentication with this user name and password.
    pub user: Option<(String, String)>,
}

/// A running registry; stopped (by its process id) on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    /// `127.0.0.1:<port>`, the registry part of references.
    pub host: String,
    /// The CA certificate (PEM) that signed the server's certificate
    /// (`SSL_CERT_FILE` for our client), when TLS is on.
    pub ca_file: Option<PathBuf>,
    /// A directory holding only `ca.crt`, for skopeo's `--cert-dir` options.
    pub cert_dir: Option<PathBuf>,
    /// The registry's storage and configuration.
    pub dir: tempfile::TempDir,
}

/// True when every tool in `names` is on `PATH`. Otherwise prints a note
/// and returns false, or panics when `AICR_REQUIRE_REAL_TOOLS` is set.
pub fn tools_or_skip(names: &[&str]) -> bool {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| which(n).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
        "real tools are required but {} missing: run scripts/install_real_tools.sh",
        missing.join(", ")
    );
    eprintln!(
        "skipping: {} not installed (run scripts/install_real_tools.sh)",
        missing.join(", ")
    );
    false
}

/// The first `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Registry {
    /// Starts a registry and waits until it accepts connections.
    pub fn start(config: &RegistryConfig) -> Registry {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: aicr-test-secret\n",
            dir.path().join("storage").display()
        );
        let (mut ca_file, mut cert_dir) = (None, None);
        if config.tls {
            let (ca, certs) = make_certificates(dir.path());
            yaml.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.path().join("server.crt").display(),
                dir.path().join("server.key").display()
            ));
            ca_file = Some(ca);
            cert_dir = Some(certs);
        }
        if let Some((user, password)) = &config.user {
            let htpasswd = dir.path().join("htpasswd");
            run(Command::new("htpasswd")
                .args(["-B", "-b", "-c"])
                .arg(&htpasswd)
                .args([user, password]));
            yaml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: aicr-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, yaml).expect("writing the registry config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("registry.log")).expect("a log file"),
            ))
            .spawn()
            .expect("docker-registry starts");
        let mut registry = Registry {
            child,
            host,
            ca_file,
            cert_dir,
            dir,
        };
        registry.wait_ready(port);
        registry
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited with {status}: {}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not listen within 20 s: {}", self.log());
    }

    /// The registry's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the OS's choice).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("an address").port()
}

/// A CA and a server certificate for `localhost` and `127.0.0.1` (P-256,
/// valid for two days) in `dir`: returns the CA file and a directory
/// holding it as `ca.crt`.
fn make_certificates(dir: &Path) -> (PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=aicr test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
        ])
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.crt")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(
        p("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("writing the extension file");
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.crt"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(p("server.ext"))
        .arg("-out")
        .arg(p("server.crt")));
    let certs = dir.join("certs");
    std::fs::create_dir(&certs).expect("a cert directory");
    std::fs::copy(p("ca.crt"), certs.join("ca.crt")).expect("copying the CA");
    (p("ca.crt"), certs)
}

fn run(command: &mut Command) {
    let out = command.output().expect("the tool runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
