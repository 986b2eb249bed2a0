//! Hostile plugins are contained with a clear error, and the host goes on.

use std::time::{Duration, Instant};

use serde_json::json;
use tillbridge::egress::AllowList;
use tillbridge::runtime::{CallError, Grants, Limits, Plugin, Runtime};

use crate::support::{LogCapture, component, runtime, serve};

const LIMITS: Limits = Limits {
    memory_bytes: 32 << 20,
    cpu_budget: Duration::from_millis(300),
    call_timeout: Duration::from_secs(20),
};

fn hostile(runtime: &Runtime) -> Plugin {
    runtime
        .load("hostile", &component("fixture_hostile"))
        .unwrap()
}

fn grants(attack: &str) -> Grants {
    let mut grants = Grants::minimal("hostile", LIMITS).with_settings(json!({ "attack": attack }));
    grants.allowed_hosts = AllowList::new(&["http://127.0.0.1:9"]);
    grants
}

/// Runs the attack and returns what the host made of it.
async fn attack(plugin: &Plugin, kind: &str) -> Result<String, CallError> {
    plugin.session(grants(kind)).await?.check().await
}

/// After any attack, the same plugin still runs normally in a new session.
async fn host_goes_on(plugin: &Plugin) {
    assert_eq!(attack(plugin, "none").await.unwrap(), "no attack \"none\"");
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_time_budget() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let started = Instant::now();
    let error = attack(&plugin, "loop").await.unwrap_err();
    assert!(
        matches!(error, CallError::CpuBudget { budget_ms: 300, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("computed for more than 300 ms"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped promptly, not by the wall-clock timeout"
    );
    host_goes_on(&plugin).await;
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_limit() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let error = attack(&plugin, "memory").await.unwrap_err();
    let CallError::Memory {
        limit_mb,
        wanted_mb,
        ..
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(*limit_mb, 32);
    assert!(*wanted_mb > 32, "{error}");
    assert!(
        error.to_string().contains("memory limit of 32 MiB"),
        "{error}"
    );
    host_goes_on(&plugin).await;
}

#[tokio::test]
async fn a_call_to_a_host_not_allowed_is_denied_and_logged() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let (log, _guard) = LogCapture::start();
    let error = attack(&plugin, "http").await.unwrap_err();
    let CallError::Plugin(plugin_error) = &error else {
        panic!("{error}")
    };
    let message = error.to_string();
    assert!(
        message.contains("denied") && message.contains("example.com"),
        "{message}"
    );
    assert!(
        message.contains("allowed_hosts"),
        "says how to allow it: {message}"
    );
    let _ = plugin_error;
    let logged = log.text();
    assert!(
        logged.contains("request denied") && logged.contains("example.com"),
        "{logged}"
    );
    host_goes_on(&plugin).await;
}

#[tokio::test]
async fn a_panic_becomes_a_clear_error() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let error = attack(&plugin, "panic").await.unwrap_err();
    let CallError::Crashed { message, .. } = &error else {
        panic!("{error}")
    };
    assert!(
        message.contains("the hostile plugin panics on purpose"),
        "{message}"
    );
    host_goes_on(&plugin).await;
}

#[tokio::test]
async fn a_trap_becomes_a_clear_error_and_closes_the_session() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let mut session = plugin.session(grants("trap")).await.unwrap();
    let error = session.check().await.unwrap_err();
    let CallError::Crashed { message, .. } = &error else {
        panic!("{error}")
    };
    assert!(message.contains("out of bounds"), "{message}");
    assert!(session.is_closed());
    assert!(
        matches!(session.check().await, Err(CallError::Closed { .. })),
        "a crashed instance is not used again"
    );
    host_goes_on(&plugin).await;
}

#[tokio::test]
async fn files_and_the_environment_are_not_there() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    // The test process has a HOME and a PATH; the plugin must see neither.
    assert!(std::env::var("PATH").is_ok());
    let file = attack(&plugin, "file").await.unwrap();
    assert!(file.starts_with("no file:"), "{file}");
    let env = attack(&plugin, "env").await.unwrap();
    assert_eq!(env, "no environment: 0 variables");
}

#[tokio::test]
async fn secrets_not_granted_are_refused() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let mut grants = grants("secret");
    grants.secrets.insert("granted".into(), "visible".into());
    let answer = plugin.session(grants).await.unwrap().check().await.unwrap();
    assert_eq!(answer, "no secret");
}

#[tokio::test]
async fn a_component_for_another_wit_version_is_refused_at_load() {
    let (runtime, _dir) = runtime();
    let Err(error) = runtime.load("future", &component("fixture_wrong_version")) else {
        panic!("loaded")
    };
    let message = error.to_string();
    assert!(message.contains("tillbridge:plugin@0.9.0"), "{message}");
    assert!(
        message.contains("tillbridge:plugin@0.3.0"),
        "says what it expected: {message}"
    );
}

#[tokio::test]
async fn a_component_of_another_world_is_refused_at_load() {
    let (runtime, _dir) = runtime();
    let Err(error) = runtime.load("widget", &component("fixture_wrong_world")) else {
        panic!("loaded")
    };
    let message = error.to_string();
    assert!(message.contains("acme:widget/greeter"), "{message}");
    assert!(
        message.contains("tillbridge:plugin/transformer@0.3.0")
            && message.contains("tillbridge:plugin/connector@0.3.0"),
        "{message}"
    );
    let Err(error) = runtime.load("garbage", b"\0asm not really") else {
        panic!("loaded")
    };
    assert!(
        error
            .to_string()
            .contains("not a valid WebAssembly component"),
        "{error}"
    );
}

#[tokio::test]
async fn capabilities_come_from_the_exports() {
    let (runtime, _dir) = runtime();
    let plugin = hostile(&runtime);
    let description = plugin.description();
    assert_eq!(description.world, tillbridge::runtime::World::Connector);
    assert_eq!(
        description.capabilities,
        vec![
            tillbridge::runtime::Capability::StockSource,
            tillbridge::runtime::Capability::StockSink
        ]
    );
    assert_eq!(description.wit_version, "0.3.0");
    let mut session = plugin.session(grants("none")).await.unwrap();
    let lookup =
        tillbridge::runtime::bindings::exports::tillbridge::plugin::orders_sink::MarkerLookup {
            marker: "1".into(),
            since: "2026-11-28T18:40:00Z".into(),
        };
    let missing = session.find_orders(&[lookup]).await.unwrap_err();
    assert!(
        matches!(&missing, CallError::Missing { interface, .. } if interface == "orders-sink"),
        "{missing}"
    );
}

/// A plugin's `kv` writes do not wait for the disk, but they must be on it before a request that
/// changes something leaves: a connector that remembers "booked" and then books must not, after a
/// crash, find the booking done and its memory of it gone. The server copies the state file while
/// the request is in flight: what a process killed at that moment leaves behind.
#[tokio::test]
async fn a_write_is_on_disk_before_the_change_after_it_leaves() {
    use tillbridge::runtime::Kv;
    use tillbridge::state::State;

    let (runtime, dir) = runtime();
    let plugin = hostile(&runtime);
    let path = dir.path().join("state.redb");
    let crashed = dir.path().join("crashed.redb");
    let state = State::open(&path).unwrap();

    let (from, to) = (path.clone(), crashed.clone());
    let app = axum::Router::new().route(
        "/book",
        axum::routing::post(move || async move {
            std::fs::copy(&from, &to).unwrap();
            axum::http::StatusCode::CREATED
        }),
    );
    let address = serve(app).await;

    let mut grants = grants(&format!("remember then post http://{address}/book"));
    grants.allowed_hosts = AllowList::new(&[format!("http://{address}").as_str()]);
    grants.kv = Kv::State(state.kv("hostile"));
    let answer = plugin.session(grants).await.unwrap().check().await;
    assert_eq!(answer.unwrap(), "posted: 201");

    let after_crash = State::open(&crashed).unwrap();
    assert_eq!(
        after_crash
            .kv("hostile")
            .get("remembered")
            .unwrap()
            .as_deref(),
        Some("before the change"),
        "the write made before the booking was lost with the crash"
    );
}
