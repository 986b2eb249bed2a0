//! Egress against a real server on the loopback: what the policy lets through.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A server on 127.0.0.1 answering 200 "ok", counting the requests it gets.
async fn server() -> (SocketAddr, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let app = axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { "ok" }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, count)
}

/// Egress whose resolver answers `shop.test` with 127.0.0.1, as a rebinding DNS server would.
fn rebound() -> Egress {
    let hosts = HashMap::from([(
        "shop.test".to_string(),
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
    )]);
    Egress::resolving_with(
        Resolver::fixed(false, hosts.clone()),
        Resolver::fixed(true, hosts),
    )
    .unwrap()
}

fn policy(allowed: AllowList) -> Policy {
    Policy {
        caller: "test".into(),
        allowed,
        default_timeout: Duration::from_secs(5),
        pacer: None,
        metrics: None,
    }
}

fn get(url: &str) -> Request {
    Request {
        method: Method::Get,
        url: url.into(),
        headers: vec![],
        body: vec![],
        operation: None,
        idempotent: true,
        timeout_ms: None,
    }
}

#[tokio::test]
async fn an_allowed_name_resolving_to_the_loopback_is_refused() {
    let (addr, count) = server().await;
    let entry = format!("http://shop.test:{}", addr.port());
    let answer = rebound()
        .send(
            &policy(AllowList::new(&[&entry])),
            get(&format!("{entry}/")),
        )
        .await;
    let Err(HttpError::Denied(message)) = answer else {
        panic!("{answer:?}")
    };
    assert!(
        message.contains("shop.test resolves to 127.0.0.1") && message.contains("private_network"),
        "{message}"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "nothing reached the server"
    );
}

#[tokio::test]
async fn a_private_network_grant_or_a_named_address_reaches_the_loopback() {
    let (addr, count) = server().await;
    let entry = format!("http://shop.test:{}", addr.port());
    let private = AllowList::new(&[&entry]).with_private_network(true);
    let answer = rebound()
        .send(&policy(private), get(&format!("{entry}/")))
        .await;
    assert_eq!(answer.unwrap().status, 200);
    let literal = format!("http://{addr}");
    let answer = rebound()
        .send(&policy(AllowList::new(&[&literal])), get(&literal))
        .await;
    assert_eq!(answer.unwrap().status, 200);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn another_port_or_scheme_on_an_allowed_host_is_denied() {
    let (addr, count) = server().await;
    let allowed = AllowList::new(&["http://127.0.0.1"]);
    for url in [format!("http://{addr}/"), format!("https://{addr}/")] {
        let answer = rebound().send(&policy(allowed.clone()), get(&url)).await;
        assert!(
            matches!(answer, Err(HttpError::Denied(_))),
            "{url}: {answer:?}"
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_plugin_may_not_set_host_or_connection_headers() {
    let (addr, count) = server().await;
    let url = format!("http://{addr}/");
    let allowed = AllowList::new(&[format!("http://{addr}")]);
    for header in ["Host", "content-length", "Transfer-Encoding", "Connection"] {
        let mut request = get(&url);
        request.headers = vec![(header.into(), "internal.example".into())];
        let answer = rebound().send(&policy(allowed.clone()), request).await;
        let Err(HttpError::Denied(message)) = answer else {
            panic!("{header}: {answer:?}")
        };
        assert!(message.contains(header), "{message}");
    }
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

/// A server on 127.0.0.1 that answers every request with a chunked body made by `chunk` (until
/// it gives none or the client hangs up), one chunk each `every`; counts requests and bytes sent.
async fn streaming(
    chunk: fn(usize) -> Option<Vec<u8>>,
    every: Duration,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (requests, sent) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (counted, total) = (requests.clone(), sent.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let total = total.clone();
            tokio::spawn(async move {
                let _ = socket.read(&mut [0; 4096]).await;
                let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut n = 0;
                while let Some(bytes) = chunk(n) {
                    let mut framed = format!("{:x}\r\n", bytes.len()).into_bytes();
                    framed.extend_from_slice(&bytes);
                    framed.extend_from_slice(b"\r\n");
                    if socket.write_all(&framed).await.is_err() {
                        return;
                    }
                    total.fetch_add(bytes.len(), Ordering::SeqCst);
                    n += 1;
                    tokio::time::sleep(every).await;
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    (url, requests, sent)
}

#[tokio::test]
async fn a_gigabyte_answer_is_cut_at_the_cap_and_not_asked_for_again() {
    const GIGABYTE: usize = 1 << 30;
    const CHUNK: usize = 1 << 20;
    let (url, requests, sent) = streaming(
        |n| (n * CHUNK < GIGABYTE).then(|| vec![b'0'; CHUNK]),
        Duration::ZERO,
    )
    .await;
    let answer = rebound()
        .send(&policy(AllowList::new(&[&url])), get(&url))
        .await;
    let Err(HttpError::Unreachable(message)) = answer else {
        panic!("{answer:?}")
    };
    assert!(message.contains("larger than 64 MiB"), "{message}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "every attempt would meet it: not sent again"
    );
    assert!(
        sent.load(Ordering::SeqCst) < GIGABYTE / 2,
        "reading stopped at the cap"
    );
}

#[tokio::test]
async fn a_slow_drip_answer_meets_the_deadline_of_the_whole_request() {
    // A byte every 100 ms, for ever: no single read ever waits long.
    let (url, _, _) = streaming(|_| Some(vec![b'{']), Duration::from_millis(100)).await;
    let mut request = get(&url);
    request.timeout_ms = Some(1_000);
    request.idempotent = false;
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        rebound().send(&policy(AllowList::new(&[&url])), request),
    )
    .await
    .expect("the request's own deadline ends it");
    assert!(
        matches!(&answer, Err(HttpError::Timeout(m)) if m.contains("1000 ms")),
        "{answer:?}"
    );
}
