//! RTSP check against a real GStreamer RTSP server (`tests/rtsp_server.py`, run with Debian's
//! Python): a video mount, an audio-only mount, a missing mount, and Basic and Digest
//! authentication.

use std::process::Command;
use std::time::Duration;

use vigie_checks::{CheckError, Credentials, rtsp_check};

use crate::peers::{DEBIAN_PYTHON, Peer, tests_dir};

const TIMEOUT: Duration = Duration::from_secs(20);
const PACKAGES: &str =
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good";

/// Starts the server; `auth` is `none`, `basic` or `digest` (user `vigie`, password `s3cret`).
fn rtsp_server(auth: &str) -> Peer {
    let mut command = Command::new(DEBIAN_PYTHON);
    command.arg(tests_dir().join("rtsp_server.py")).args([
        "--port",
        "0",
        "--auth",
        auth,
        "--user",
        "vigie",
        "--password",
        "s3cret",
    ]);
    Peer::start(command, PACKAGES, |line| line.starts_with("ready "))
}

#[tokio::test]
async fn video_mount_offers_a_video_track() {
    let server = rtsp_server("none");
    let url = format!("rtsp://127.0.0.1:{}/cam", server.announced_port());

    let outcome = rtsp_check(&url, None, TIMEOUT).await.expect("réponse");

    assert_eq!(outcome.status, 200);
    assert!(outcome.has_video);
    assert_eq!(outcome.video_codecs, vec!["JPEG".to_owned()]);
    assert!(!outcome.has_audio);
    assert!(!outcome.signal_lost());
}

#[tokio::test]
async fn audio_only_mount_is_signal_lost() {
    let server = rtsp_server("none");
    let url = format!("rtsp://127.0.0.1:{}/audio-only", server.announced_port());

    let outcome = rtsp_check(&url, None, TIMEOUT).await.expect("réponse");

    assert_eq!(outcome.status, 200);
    assert!(outcome.has_audio);
    assert!(!outcome.has_video);
    assert!(outcome.video_codecs.is_empty());
    assert!(outcome.signal_lost());
}

#[tokio::test]
async fn missing_mount_answers_404() {
    let server = rtsp_server("none");
    let url = format!("rtsp://127.0.0.1:{}/missing", server.announced_port());

    let outcome = rtsp_check(&url, None, TIMEOUT).await.expect("réponse");

    assert_eq!(outcome.status, 404);
    assert!(!outcome.has_video);
    assert!(outcome.signal_lost());
}

#[tokio::test]
async fn digest_authentication_with_right_credentials() {
    let server = rtsp_server("digest");
    let url = format!("rtsp://127.0.0.1:{}/secure", server.announced_port());

    let outcome = rtsp_check(&url, Some(&Credentials::new("vigie", "s3cret")), TIMEOUT)
        .await
        .expect("réponse");

    assert_eq!(outcome.status, 200);
    assert!(outcome.has_video);
}

#[tokio::test]
async fn digest_authentication_with_wrong_password_is_refused() {
    let server = rtsp_server("digest");
    let url = format!("rtsp://127.0.0.1:{}/secure", server.announced_port());

    let error = rtsp_check(&url, Some(&Credentials::new("vigie", "faux")), TIMEOUT)
        .await
        .unwrap_err();

    assert!(
        matches!(error, CheckError::AuthenticationRefused(_)),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("authentification refusée"));
}

#[tokio::test]
async fn missing_credentials_are_refused() {
    let server = rtsp_server("digest");
    let url = format!("rtsp://127.0.0.1:{}/secure", server.announced_port());

    let error = rtsp_check(&url, None, TIMEOUT).await.unwrap_err();

    assert!(
        matches!(error, CheckError::AuthenticationRefused(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn basic_authentication_with_credentials_in_the_url() {
    let server = rtsp_server("basic");
    let url = format!(
        "rtsp://vigie:s3cret@127.0.0.1:{}/secure",
        server.announced_port()
    );

    let outcome = rtsp_check(&url, None, TIMEOUT).await.expect("réponse");

    assert_eq!(outcome.status, 200);
    assert!(outcome.has_video);
}

#[tokio::test]
async fn basic_authentication_with_wrong_password_is_refused() {
    let server = rtsp_server("basic");
    let url = format!("rtsp://127.0.0.1:{}/secure", server.announced_port());

    let error = rtsp_check(&url, Some(&Credentials::new("vigie", "faux")), TIMEOUT)
        .await
        .unwrap_err();

    assert!(
        matches!(error, CheckError::AuthenticationRefused(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("rtsp://{}/cam", listener.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    });

    let error = rtsp_check(&url, None, Duration::from_millis(300))
        .await
        .unwrap_err();

    assert_eq!(error, CheckError::Timeout(Duration::from_millis(300)));
    holder.abort();
}
