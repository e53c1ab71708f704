//! HTTP check against Python's real `http.server` started in a temporary directory, and
//! against a listener that accepts but never answers.

use std::process::Command;
use std::time::Duration;

use vigie_checks::{CheckError, HttpOptions, http_check};

use crate::peers::{DEBIAN_PYTHON, Peer};

struct FileServer {
    peer: Peer,
    _root: tempfile::TempDir,
}

impl FileServer {
    /// Serves a directory holding `index.html` and a 100 KiB `big.bin`.
    fn start() -> FileServer {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("index.html"), "<h1>Vigie</h1>").unwrap();
        std::fs::write(root.path().join("big.bin"), vec![b'x'; 100 * 1024]).unwrap();
        let mut command = Command::new(DEBIAN_PYTHON);
        command
            .args([
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(root.path())
            .arg("0");
        // Prints "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ...".
        let peer = Peer::start(command, "python3", |line| line.starts_with("Serving HTTP"));
        FileServer { peer, _root: root }
    }

    fn url(&self, path: &str) -> String {
        let port = self
            .peer
            .ready_line
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .expect("port in the banner");
        format!("http://127.0.0.1:{port}{path}")
    }
}

#[tokio::test]
async fn existing_page_answers_200() {
    let server = FileServer::start();

    let outcome = http_check(&server.url("/index.html"), &HttpOptions::default())
        .await
        .expect("réponse");

    assert_eq!(outcome.status, 200);
    assert!(outcome.status_expected);
    assert_eq!(outcome.body_bytes, "<h1>Vigie</h1>".len());
    assert_eq!(outcome.certificate, None);
}

#[tokio::test]
async fn missing_page_answers_404_as_an_outcome() {
    let server = FileServer::start();

    let outcome = http_check(&server.url("/absent"), &HttpOptions::default())
        .await
        .expect("réponse");

    assert_eq!(outcome.status, 404);
    assert!(!outcome.status_expected);
}

#[tokio::test]
async fn body_is_read_up_to_the_bound_only() {
    let server = FileServer::start();
    let options = HttpOptions {
        max_body_bytes: 1000,
        ..HttpOptions::default()
    };

    let outcome = http_check(&server.url("/big.bin"), &options)
        .await
        .expect("réponse");

    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.body_bytes, 1000);
}

#[tokio::test]
async fn silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    // Accepts and holds the connection without a byte of answer.
    let holder = tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    });
    let options = HttpOptions {
        timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };

    let error = http_check(&url, &options).await.unwrap_err();

    assert_eq!(error, CheckError::Timeout(Duration::from_millis(300)));
    assert!(error.to_string().starts_with("délai dépassé"));
    holder.abort();
}

#[tokio::test]
async fn unsupported_scheme_is_refused() {
    let error = http_check("ftp://127.0.0.1/", &HttpOptions::default())
        .await
        .unwrap_err();

    assert!(matches!(error, CheckError::InvalidTarget(_)), "{error:?}");
}
