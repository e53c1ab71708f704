//! ONVIF checks against a real ONVIF device implementation: the HTTP/ONVIF handler of
//! ipycam (PyPI), which answers GetSystemDateAndTime and GetDeviceInformation and verifies
//! WS-Security UsernameToken digests (`tests/onvif_device.py` serves it on 127.0.0.1).
//!
//! ipycam is installed on first use into a virtual environment under Cargo's target
//! temporary directory, with Debian's Python:
//!   /usr/bin/python3 -m venv target/tmp/onvif-venv
//!   target/tmp/onvif-venv/bin/pip install -r crates/checks/tests/requirements-onvif.txt
//! Set VIGIE_ONVIF_PYTHON to a Python that already has ipycam to skip that step.
//!
//! With credentials set, ipycam demands the token on every action, GetSystemDateAndTime
//! included (real cameras answer that one before authentication), so the clock is read from
//! a device without credentials and the identity from one with.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use jiff::SignedDuration;
use vigie_checks::{CheckError, Credentials, onvif_device_information, onvif_system_date_and_time};

use crate::peers::{DEBIAN_PYTHON, Peer, tests_dir};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Serialises the one-time installation between the tests of this binary.
static INSTALL: Mutex<()> = Mutex::new(());

/// A Python interpreter that can import ipycam, installing it if needed.
fn onvif_python() -> PathBuf {
    if let Some(python) = std::env::var_os("VIGIE_ONVIF_PYTHON") {
        return PathBuf::from(python);
    }
    let _installing = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("onvif-venv");
    let python = venv.join("bin/python");
    let requirements = tests_dir().join("requirements-onvif.txt");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    let stamp = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    let run = |command: &mut Command, what: &str| {
        let output = command
            .output()
            .unwrap_or_else(|error| panic!("{what} impossible ({error})"));
        assert!(
            output.status.success(),
            "{what} a échoué (Debian packages python3 python3-venv needed, PyPI reachable):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(
        Command::new(DEBIAN_PYTHON)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
        "pip install -r requirements-onvif.txt",
    );
    std::fs::write(&stamp, wanted).unwrap();
    python
}

/// Starts ipycam's ONVIF service; with `credentials`, WS-Security is enforced.
fn onvif_device(credentials: Option<&Credentials>) -> (Peer, String) {
    let mut command = Command::new(onvif_python());
    command.arg(tests_dir().join("onvif_device.py")).args([
        "--port",
        "0",
        "--manufacturer",
        "Axis & Co",
        "--model",
        "Q6135-LE",
        "--serial",
        "ACCC8E000001",
        "--firmware",
        "10.12.3",
    ]);
    if let Some(credentials) = credentials {
        command
            .args(["--username", &credentials.username])
            .args(["--password", &credentials.password]);
    }
    let peer = Peer::start(
        command,
        "python3 python3-venv (and ipycam from PyPI)",
        |line| line.starts_with("ready "),
    );
    let url = format!(
        "http://127.0.0.1:{}/onvif/device_service",
        peer.announced_port()
    );
    (peer, url)
}

#[tokio::test]
async fn device_clock_is_read_and_compared() {
    let (_device, url) = onvif_device(None);

    let time = onvif_system_date_and_time(&url, TIMEOUT)
        .await
        .expect("heure");

    // Same machine, same clock: the offset is the device's truncation to whole seconds plus
    // half the exchange, far below this bound.
    assert!(
        time.offset.abs() < SignedDuration::from_secs(5),
        "{:?}",
        time.offset
    );
    assert_eq!(time.device_utc.subsec_nanosecond(), 0);
}

#[tokio::test]
async fn device_information_with_the_right_password() {
    let credentials = Credentials::new("admin", "m0t-de-passe");
    let (_device, url) = onvif_device(Some(&credentials));

    let information = onvif_device_information(&url, &credentials, SignedDuration::ZERO, TIMEOUT)
        .await
        .expect("identité");

    assert_eq!(information.manufacturer, "Axis & Co");
    assert_eq!(information.model, "Q6135-LE");
    assert_eq!(information.firmware_version, "10.12.3");
    assert_eq!(information.serial_number, "ACCC8E000001");
    assert_eq!(information.hardware_id, "PY-HW-01");
}

#[tokio::test]
async fn device_information_with_a_wrong_password_is_refused() {
    let (_device, url) = onvif_device(Some(&Credentials::new("admin", "m0t-de-passe")));

    let error = onvif_device_information(
        &url,
        &Credentials::new("admin", "faux"),
        SignedDuration::ZERO,
        TIMEOUT,
    )
    .await
    .unwrap_err();

    assert_eq!(
        error,
        CheckError::AuthenticationRefused("Sender not authorized".into())
    );
}

#[tokio::test]
async fn token_dated_far_from_the_device_clock_is_refused() {
    // ipycam refuses a Created more than 5 minutes from its clock: the offset is used.
    let credentials = Credentials::new("admin", "m0t-de-passe");
    let (_device, url) = onvif_device(Some(&credentials));

    let error =
        onvif_device_information(&url, &credentials, SignedDuration::from_hours(1), TIMEOUT)
            .await
            .unwrap_err();

    assert!(
        matches!(error, CheckError::AuthenticationRefused(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn non_onvif_endpoint_is_a_protocol_error() {
    let (_device, url) = onvif_device(None);
    let url = url.replace("/onvif/device_service", "/nothing-here");

    let error = onvif_system_date_and_time(&url, TIMEOUT).await.unwrap_err();

    assert!(matches!(error, CheckError::Protocol(_)), "{error:?}");
}
