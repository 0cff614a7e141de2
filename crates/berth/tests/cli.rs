//! The command line: zero-config defaults, and flags over `BERTH_*` over the config file.

mod common;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn wait_healthy(addr: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = ureq::get(&format!("http://{addr}/healthz")).call() {
            if r.status() == 200 {
                return;
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "berth exited");
        assert!(Instant::now() < deadline, "berth did not answer on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_with_no_flags_uses_5000_and_berth_data() {
    let dir = std::env::temp_dir().join(unique("berth-cli-"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("serve")
            .current_dir(&dir)
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("BERTH_LISTEN")
            .env_remove("BERTH_DATA_DIR")
            .env_remove("BERTH_DATABASE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_healthy("127.0.0.1:5000", &mut child.0);
    let c = Client::new("http://127.0.0.1:5000").with_basic("admin", ADMIN_PASSWORD);
    c.push_image("library/zero", "config", &[b"layer"]);
    assert!(
        dir.join("berth-data/meta.db").exists(),
        "metadata in ./berth-data"
    );
    assert!(
        dir.join("berth-data/storage/blobs/sha256").is_dir(),
        "blobs in ./berth-data"
    );
    drop(child);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn flags_override_environment_which_overrides_the_config_file() {
    let dir = std::env::temp_dir().join(unique("berth-cli-"));
    std::fs::create_dir_all(&dir).unwrap();
    let (p_file, p_env, p_flag) = (free_port(), free_port(), free_port());
    let config = dir.join("berth.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{p_file}\"\ndata_dir = \"{}\"\n",
            dir.join("from-file").display()
        ),
    )
    .unwrap();
    let run = |env_listen: Option<u16>, flag_listen: Option<u16>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.env_remove("BERTH_LISTEN")
            .env_remove("BERTH_DATA_DIR")
            .env_remove("BERTH_DATABASE");
        if let Some(p) = env_listen {
            cmd.env("BERTH_LISTEN", format!("127.0.0.1:{p}"));
        }
        if let Some(p) = flag_listen {
            cmd.arg("--listen").arg(format!("127.0.0.1:{p}"));
        }
        Killed(cmd.spawn().unwrap())
    };
    let mut a = run(None, None);
    wait_healthy(&format!("127.0.0.1:{p_file}"), &mut a.0);
    assert!(dir.join("from-file/meta.db").exists());
    drop(a);
    let mut b = run(Some(p_env), None);
    wait_healthy(&format!("127.0.0.1:{p_env}"), &mut b.0);
    drop(b);
    let mut c = run(Some(p_env), Some(p_flag));
    wait_healthy(&format!("127.0.0.1:{p_flag}"), &mut c.0);
    drop(c);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = std::env::temp_dir().join(unique("berth-cli-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.toml"), "listen = 5\nunknown_key = true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["serve", "--config"])
        .arg(dir.join("bad.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "names the file: {err}");
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["serve", "--database", "mysql://x"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
    std::fs::remove_dir_all(dir).unwrap();
}
