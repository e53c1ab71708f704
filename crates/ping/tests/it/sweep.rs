//! The engine against real hosts: a veth peer that answers, an address nobody holds, a link
//! going down and up, a whole /16 answering from the kernel.

use serde_json::Value;

use crate::support::{namespace, only_result, pinger_and_host, run_sweep, sweep};

#[test]
fn a_host_behind_a_veth_answers_with_a_positive_rtt() {
    let (pinger, _host) = pinger_and_host("reach");
    let document = sweep(
        &pinger,
        &[
            "10.91.0.2",
            "--count",
            "3",
            "--round-interval-ms",
            "50",
            "--timeout-ms",
            "2000",
        ],
    );
    let result = only_result(&document);
    assert_eq!(result["sent"], 3, "{document}");
    assert_eq!(result["received"], 3, "{document}");
    for field in ["rtt_min_us", "rtt_avg_us", "rtt_max_us"] {
        let rtt = result[field].as_f64().expect(field);
        assert!(rtt > 0.0, "{field} = {rtt}");
    }
    assert!(result["rtt_min_us"].as_f64() <= result["rtt_max_us"].as_f64());
}

#[test]
fn an_address_without_host_gets_no_reply() {
    let (pinger, _host) = pinger_and_host("absent");
    let document = sweep(&pinger, &["10.91.0.3", "--timeout-ms", "500"]);
    let result = only_result(&document);
    assert_eq!(result["sent"], 1, "{document}");
    assert_eq!(result["received"], 0, "{document}");
    assert_eq!(result["rtt_min_us"], Value::Null, "{document}");
}

#[test]
fn an_equipment_whose_link_goes_down_stops_answering_and_answers_again_when_it_is_back() {
    let (pinger, host) = pinger_and_host("flap");
    let arguments = [
        "10.91.0.2",
        "--count",
        "3",
        "--round-interval-ms",
        "50",
        "--timeout-ms",
        "1000",
    ];

    let before = sweep(&pinger, &arguments);
    assert_eq!(only_result(&before)["received"], 3, "{before}");

    host.ip(&["link", "set", "veth1", "down"])
        .unwrap_or_else(|error| panic!("{error}"));
    let down = sweep(&pinger, &arguments);
    assert_eq!(only_result(&down)["sent"], 3, "{down}");
    assert_eq!(only_result(&down)["received"], 0, "{down}");

    host.ip(&["link", "set", "veth1", "up"])
        .unwrap_or_else(|error| panic!("{error}"));
    let back = sweep(&pinger, &arguments);
    // The first probe may be spent while the link and the ARP entry come back.
    let received = only_result(&back)["received"].as_u64().expect("received");
    assert!(received >= 1, "{back}");
}

/// `count` addresses of 10.77.0.0/16, leaving out those ending in .0 and .255.
fn local_range_addresses(count: usize) -> Vec<String> {
    (0..count)
        .map(|index| format!("10.77.{}.{}", index / 254, index % 254 + 1))
        .collect()
}

fn sweep_local_range(purpose: &str, targets: usize, extra: &[&str]) -> Value {
    let namespace = namespace(purpose);
    namespace
        .ip(&["route", "add", "local", "10.77.0.0/16", "dev", "lo"])
        .unwrap_or_else(|error| panic!("{error}"));
    let addresses = local_range_addresses(targets);
    let mut arguments: Vec<&str> = addresses.iter().map(String::as_str).collect();
    arguments.extend(["--timeout-ms", "2000"]);
    arguments.extend(extra);
    sweep(&namespace, &arguments)
}

#[test]
fn a_thousand_addresses_of_a_local_slash_16_all_answer() {
    let document = sweep_local_range("range", 1000, &[]);
    assert_eq!(document["targets"], 1000);
    assert_eq!(document["alive"], 1000, "{}", document["alive"]);
    let results = document["results"].as_array().expect("results");
    let expected = local_range_addresses(1000);
    for (result, address) in results.iter().zip(&expected) {
        assert_eq!(
            result["target"],
            address.as_str(),
            "results keep the order of the targets"
        );
        assert_eq!(result["received"], 1, "{result}");
    }
}

#[test]
fn several_rounds_match_every_reply_to_its_probe() {
    let document = sweep_local_range(
        "rounds",
        200,
        &["--count", "3", "--round-interval-ms", "20"],
    );
    assert_eq!(document["sent"], 600);
    assert_eq!(document["received"], 600, "{}", document["received"]);
}

#[test]
fn invalid_options_are_refused_in_french() {
    let namespace = namespace("invalid");
    let output = run_sweep(&namespace, &["127.0.0.1", "--payload-size", "4"]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("taille de charge utile invalide"),
        "{message}"
    );
}

#[test]
fn without_cap_net_raw_the_error_says_what_is_needed() {
    let namespace = namespace("nocap");
    // setpriv (util-linux) removes CAP_NET_RAW from the bounding set, so even root lacks it.
    let output = namespace
        .command("setpriv")
        .args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw"])
        .arg(env!("CARGO_BIN_EXE_vigie-ping-sweep"))
        .arg("127.0.0.1")
        .output()
        .expect("lancement de setpriv");
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        !message.contains("No such file") && !message.contains("introuvable"),
        "setpriv manquant : installer le paquet Debian util-linux ({message})"
    );
    assert!(!output.status.success(), "{message}");
    assert!(message.contains("CAP_NET_RAW"), "{message}");
}
