//! Shared helpers of the REST integration tests: an in-process simulator on 127.0.0.1:0 and
//! clients configured against it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kis::retry::RetryPolicy;
use kis::{ClientConfig, Credentials, Environment, KisClient};
use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};

pub async fn spawn_sim(config: SimConfig) -> SimServer {
    let config = SimConfig {
        control: true,
        ..config
    };
    SimServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub fn environment(sim: &SimServer) -> Environment {
    let profile = sim.config().profile;
    Environment::Custom {
        rest_url: sim.rest_url(),
        ws_url: sim.ws_url(),
        rate: profile.default_rate(),
        vts: profile == Profile::Vts,
    }
}

pub fn credentials(profile: Profile, index: u32) -> Credentials {
    let (key, secret) = demo_credentials(profile, index);
    Credentials::new(key, secret).unwrap()
}

/// A client for the simulator's demo key `index`, caching tokens under `data_dir`.
pub fn client_config(sim: &SimServer, index: u32, data_dir: &Path) -> ClientConfig {
    let mut config =
        ClientConfig::new(environment(sim), credentials(sim.config().profile, index)).with_data_dir(data_dir);
    config.request_timeout = Duration::from_secs(20);
    config.retry = RetryPolicy::default();
    config
}

pub fn client(sim: &SimServer, index: u32, data_dir: &Path) -> KisClient {
    KisClient::new(client_config(sim, index, data_dir)).unwrap()
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kis-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `POST /sim/faults` with `body`.
pub async fn faults(sim: &SimServer, body: serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/sim/faults", sim.rest_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "faults: {}", resp.status());
}
