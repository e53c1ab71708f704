//! Browser tests: pages driven in Debian's headless Chromium through [`webdriver`], with
//! screenshots and chromedriver's log kept in `target/browser-artifacts/<test>/` (the tablet's
//! screenshots in `target/browser-artifacts/tablette-*.png`): the main flows (`pages`), the
//! pages on a tablet (`tablet`), their accessibility and the keyboard (`accessibility`), over
//! a shared scene (`scene`).

mod accessibility;
mod day;
mod pages;
mod scene;
mod tablet;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use webdriver::Browser;

/// Bound on every wait of these tests.
const WAIT: Duration = Duration::from_secs(5);
/// Bound on a request head read by the static server.
const MAX_REQUEST_HEAD_BYTES: usize = 8 * 1024;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// `target/browser-artifacts/<test>/` (or under `CARGO_TARGET_DIR`), where a browser test
/// leaves its screenshots and logs.
pub fn artifacts_dir(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("browser-artifacts").join(test)
}

const FORM_PAGE: &str = r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Formulaire</title></head>
<body>
<p id="loading">Chargement…</p>
<form onsubmit="return false">
  <input id="name" name="name">
  <select id="tone"><option value="bonjour">Bonjour</option><option value="salut">Salut</option></select>
  <button id="copy" type="button" onclick="copyName()">Copier</button>
</form>
<p id="out"></p>
<a id="next" href="/second">Page suivante</a>
<script>
  setTimeout(() => document.getElementById('loading').remove(), 200);
  function copyName() {
    const tone = document.getElementById('tone').value;
    const name = document.getElementById('name').value;
    // Later, so that the test has to wait for it.
    setTimeout(() => { document.getElementById('out').textContent = tone + ', ' + name; }, 200);
  }
</script>
</body></html>
"#;

const SECOND_PAGE: &str = r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Seconde page</title></head>
<body><h1 id="second">Seconde page</h1></body></html>
"#;

/// Serves [`FORM_PAGE`] at `/` and [`SECOND_PAGE`] at `/second` on a free port; returns the base URL.
async fn serve_static_pages() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n")
                    && head.len() < MAX_REQUEST_HEAD_BYTES
                {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = match path {
                    "/" => ("200 OK", FORM_PAGE),
                    "/second" => ("200 OK", SECOND_PAGE),
                    _ => ("404 Not Found", "introuvable"),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn webdriver_drives_headless_chromium() {
    let base = serve_static_pages().await;
    let artifacts = artifacts_dir("webdriver_drives_headless_chromium");
    let browser = Browser::start(&artifacts).await.unwrap();

    browser.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Formulaire");
    browser.wait_until_gone("#loading", WAIT).await.unwrap();

    let missing = browser.find("#absent").await.unwrap_err();
    assert!(format!("{missing:#}").contains("#absent"), "{missing:#}");

    let name = browser.find("#name").await.unwrap();
    name.send_keys("Vigie").await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Hélène").await.unwrap();
    assert_eq!(name.property("value").await.unwrap(), "Hélène");
    let tone = browser.find("#tone").await.unwrap();
    assert_eq!(tone.find_all("option").await.unwrap().len(), 2);
    tone.select_option_by_value("salut").await.unwrap();
    browser.find("#copy").await.unwrap().click().await.unwrap();
    let out = browser.wait_for_text("#out", "Hélène", WAIT).await.unwrap();
    assert_eq!(out.text().await.unwrap(), "salut, Hélène");

    let next = browser.find("#next").await.unwrap();
    assert_eq!(
        next.attribute("href").await.unwrap().as_deref(),
        Some("/second")
    );
    assert!(next.is_displayed().await.unwrap());
    next.click().await.unwrap();
    let heading = browser.wait_for("#second", WAIT).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Seconde page");
    assert_eq!(
        browser.current_url().await.unwrap(),
        format!("{base}/second")
    );
    assert!(
        browser
            .page_source()
            .await
            .unwrap()
            .contains("<h1 id=\"second\">")
    );

    let screenshot = browser.artifacts().join("second-page.png");
    browser.screenshot(&screenshot).await.unwrap();
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(PNG_SIGNATURE),
        "not a PNG: {:?}",
        &png[..png.len().min(16)]
    );

    browser.back().await.unwrap();
    browser.wait_for("#name", WAIT).await.unwrap();
    let title = browser
        .execute("return document.title + arguments[0];", vec!["!".into()])
        .await
        .unwrap();
    assert_eq!(title, "Formulaire!");
    browser.refresh().await.unwrap();
    assert_eq!(browser.find_all("#out").await.unwrap().len(), 1);

    browser.quit().await.unwrap();
}
