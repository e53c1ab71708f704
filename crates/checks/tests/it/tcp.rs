//! TCP connect check against a listening socket, a bound but not listening one (the kernel
//! refuses), and an address that is not a target.

use std::time::Duration;

use vigie_checks::{CheckError, tcp_connect};

const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn listening_port_is_accepted() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();

    let outcome = tcp_connect(&address, TIMEOUT).await.expect("port ouvert");

    assert!(outcome.connect_time < TIMEOUT);
}

#[tokio::test]
async fn closed_port_is_refused() {
    // Bound but never listening: the port stays ours (no other test can take it) and the
    // kernel answers connections with a reset.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap().to_string();

    let error = tcp_connect(&address, TIMEOUT).await.unwrap_err();

    assert_eq!(error, CheckError::Refused);
    assert_eq!(error.to_string(), "connexion refusée");
}

#[tokio::test]
async fn malformed_address_is_an_error_not_a_panic() {
    let error = tcp_connect("pas une adresse", TIMEOUT).await.unwrap_err();

    assert!(matches!(error, CheckError::InvalidTarget(_)), "{error:?}");
    assert!(error.to_string().starts_with("cible invalide"));
}
