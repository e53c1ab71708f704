//! Parsers of untrusted input (RTSP responses, SDP, ONVIF XML): examples taken from real
//! devices, and properties that arbitrary input never makes them panic.

use proptest::prelude::*;
use vigie_checks::CheckError;
use vigie_checks::onvif::{parse_device_information, parse_system_date_and_time};
use vigie_checks::rtsp::parse_response;
use vigie_checks::sdp::parse_sdp;

/// An SDP as a Hikvision-style camera sends it: H.264 video, G.711 audio, metadata.
const CAMERA_SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=Media Presentation\r\nt=0 0\r\n\
m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n\
m=audio 0 RTP/AVP 8\r\na=control:trackID=2\r\n\
m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n";

#[test]
fn camera_sdp_gives_video_and_audio_codecs() {
    let description = parse_sdp(CAMERA_SDP);

    assert!(description.has_video);
    assert_eq!(description.video_codecs, vec!["H264".to_owned()]);
    assert!(description.has_audio);
    // No rtpmap for payload 8: the static RFC 3551 assignment names it.
    assert_eq!(description.audio_codecs, vec!["PCMA".to_owned()]);
}

#[test]
fn h265_with_bare_line_feeds() {
    let description = parse_sdp("v=0\nm=video 0 RTP/AVP 98\na=rtpmap:98 h265/90000\n");

    assert_eq!(description.video_codecs, vec!["H265".to_owned()]);
    assert!(!description.has_audio);
}

#[test]
fn response_is_incomplete_until_its_body_arrives() {
    let full = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";

    assert_eq!(parse_response(&full[..20]).unwrap(), None);
    assert_eq!(parse_response(&full[..full.len() - 1]).unwrap(), None);
    let (response, used) = parse_response(full).unwrap().unwrap();
    assert_eq!(used, full.len());
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cseq"), Some("2"));
    assert_eq!(response.body, b"v=0\r\n");
}

#[test]
fn http_status_line_is_not_rtsp() {
    let error = parse_response(b"HTTP/1.1 200 OK\r\n\r\n").unwrap_err();

    assert!(matches!(error, CheckError::Protocol(_)));
}

#[test]
fn oversized_content_length_is_refused_before_reading() {
    let error =
        parse_response(b"RTSP/1.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n").unwrap_err();

    assert!(error.to_string().contains("trop grande"), "{error}");
}

#[test]
fn soap_1_2_authentication_fault() {
    let fault = br#"<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Sender not Authorized</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"#;

    assert_eq!(
        parse_device_information(fault),
        Err(CheckError::AuthenticationRefused(
            "Sender not Authorized".into()
        ))
    );
}

#[test]
fn soap_fault_other_than_authentication() {
    let fault = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>ter:ActionNotSupported</s:Value></s:Subcode></s:Code><s:Reason><s:Text>Optional Action Not Implemented</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;

    let error = parse_system_date_and_time(fault).unwrap_err();

    assert_eq!(
        error,
        CheckError::SoapFault {
            code: "ter:ActionNotSupported".into(),
            reason: "Optional Action Not Implemented".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "faute SOAP ter:ActionNotSupported : Optional Action Not Implemented"
    );
}

#[test]
fn date_without_utc_part_is_an_error() {
    let xml = br#"<Envelope><Body><GetSystemDateAndTimeResponse><SystemDateAndTime><LocalDateTime><Time><Hour>1</Hour></Time></LocalDateTime></SystemDateAndTime></GetSystemDateAndTimeResponse></Body></Envelope>"#;

    assert!(matches!(
        parse_system_date_and_time(xml),
        Err(CheckError::Protocol(_))
    ));
}

#[test]
fn impossible_date_is_an_error() {
    let xml = br#"<E><UTCDateTime><Time><Hour>25</Hour><Minute>0</Minute><Second>0</Second></Time><Date><Year>2024</Year><Month>2</Month><Day>30</Day></Date></UTCDateTime></E>"#;

    assert!(matches!(
        parse_system_date_and_time(xml),
        Err(CheckError::Protocol(_))
    ));
}

#[test]
fn truncated_xml_is_an_error() {
    let xml = br#"<s:Envelope><s:Body><tds:GetDeviceInformationResponse><tds:Model>X"#;

    assert!(matches!(
        parse_device_information(xml),
        Err(CheckError::Protocol(_))
    ));
}

/// Fragments that steer random input towards the parsers' interesting paths.
fn rtsp_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "RTSP/1.0 ",
        "200 OK",
        "401",
        "\r\n",
        "\n",
        "\r\n\r\n",
        "Content-Length: ",
        "5",
        "-1",
        "99999999999999999999",
        "CSeq: 1",
        " folded",
        ":",
        "WWW-Authenticate: Digest ",
        "v=0",
        "m=video 0 RTP/AVP 96",
        "a=rtpmap:96 H264/90000",
        "a=rtpmap:",
        "m=",
        "é",
    ]);
    (
        prop::collection::vec(pieces, 0..40),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(pieces, noise)| {
            let mut bytes = pieces.concat().into_bytes();
            bytes.extend(noise);
            bytes
        })
}

fn xml_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "<s:Envelope>",
        "</s:Envelope>",
        "<Body>",
        "</Body>",
        "<s:Fault>",
        "</s:Fault>",
        "<Code>",
        "</Code>",
        "<Value>",
        "</Value>",
        "<Reason>",
        "<Text>",
        "</Text>",
        "<UTCDateTime>",
        "</UTCDateTime>",
        "<Year>",
        "</Year>",
        "2024",
        "99999",
        "-3",
        "<GetDeviceInformationResponse>",
        "</GetDeviceInformationResponse>",
        "<Model>",
        "</Model>",
        "&amp;",
        "&bogus;",
        "&#0;",
        "<![CDATA[x]]>",
        "<?xml version=\"1.0\"?>",
        "<a/>",
        "<",
        ">",
        "\"",
        "ter:NotAuthorized",
    ]);
    (
        prop::collection::vec(pieces, 0..60),
        prop::collection::vec(any::<u8>(), 0..32),
    )
        .prop_map(|(pieces, noise)| {
            let mut bytes = pieces.concat().into_bytes();
            bytes.extend(noise);
            bytes
        })
}

proptest! {
    #[test]
    fn rtsp_response_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_response(&bytes);
    }

    #[test]
    fn rtsp_response_parser_never_panics_on_rtsp_like_input(bytes in rtsp_like()) {
        if let Ok(Some((response, used))) = parse_response(&bytes) {
            prop_assert!(used <= bytes.len());
            prop_assert!((100..=599).contains(&response.status));
        }
    }

    #[test]
    fn sdp_parser_never_panics(text in ".{0,2048}") {
        let description = parse_sdp(&text);
        prop_assert!(description.video_codecs.is_empty() || description.has_video);
    }

    #[test]
    fn sdp_parser_never_panics_on_sdp_like_input(bytes in rtsp_like()) {
        let _ = parse_sdp(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn onvif_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_device_information(&bytes);
        let _ = parse_system_date_and_time(&bytes);
    }

    #[test]
    fn onvif_parsers_never_panic_on_xml_like_input(bytes in xml_like()) {
        let _ = parse_device_information(&bytes);
        let _ = parse_system_date_and_time(&bytes);
    }
}
