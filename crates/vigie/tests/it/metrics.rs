//! Issue 23, item 12: `/metrics` seen from another machine. A network namespace stands for
//! it (a veth pair of private addresses the test makes and removes): without a token the
//! server refuses it, with `[server] metrics_token` it serves whoever presents the token.

use std::process::Stdio;

use crate::polling::IsolatedAddress;
use crate::{Sandbox, free_port, stderr};

/// `curl` run inside the namespace: the HTTP status of `GET url` with `token`, if any.
fn status_from_namespace(link: &IsolatedAddress, url: &str, token: Option<&str>) -> String {
    let mut args = vec![
        "netns",
        "exec",
        link.namespace_name(),
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "10",
    ];
    let header = token.map(|t| format!("Authorization: Bearer {t}"));
    if let Some(header) = &header {
        args.extend(["-H", header.as_str()]);
    }
    args.push(url);
    let output = std::process::Command::new("ip")
        .args(&args)
        .output()
        .expect("ip netns exec curl (paquets Debian iproute2 et curl)");
    assert!(output.status.success(), "curl : {}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts `vigie serve` listening on `address`, with `token` for `/metrics` if any.
fn serve(sandbox: &Sandbox, address: &str, token: Option<&str>) -> std::process::Child {
    use std::io::BufRead;
    let mut command = sandbox.command(&["serve"]);
    command
        .env("VIGIE_SERVER__LISTEN", address)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(token) = token {
        command.env("VIGIE_SERVER__METRICS_TOKEN", token);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("Vigie écoute"), "{first}");
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[tokio::test]
async fn metrics_refuse_another_machine_unless_it_has_the_token() {
    let link = IsolatedAddress::create();
    let sandbox = Sandbox::new().await;
    let port = free_port();
    let address = format!("{}:{port}", link.host_address());
    let url = format!("http://{address}/metrics");

    // No token configured: the other machine is refused, though it reaches the server.
    let mut server = serve(&sandbox, &address, None);
    assert_eq!(status_from_namespace(&link, &url, None), "403");
    let health = format!("http://{address}/healthz");
    assert_eq!(status_from_namespace(&link, &health, None), "200");
    let _ = server.kill();
    let _ = server.wait();

    // A token configured: served to whoever presents it, from anywhere.
    let mut server = serve(&sandbox, &address, Some("jeton-de-prometheus"));
    assert_eq!(status_from_namespace(&link, &url, None), "401");
    assert_eq!(
        status_from_namespace(&link, &url, Some("jeton-faux")),
        "401"
    );
    assert_eq!(
        status_from_namespace(&link, &url, Some("jeton-de-prometheus")),
        "200"
    );
    let _ = server.kill();
    let _ = server.wait();
    sandbox.finish().await;
}
