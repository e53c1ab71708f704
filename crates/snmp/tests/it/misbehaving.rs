//! The client against a deliberately broken agent, which no real agent can be made to be:
//! garbage and stray datagrams before the answer, and a walk that does not advance.

use std::time::Duration;

use tokio::net::UdpSocket;
use vigie_snmp::message::{CommunityMessage, Message, decode_message};
use vigie_snmp::{Client, Error, Oid, Pdu, PduBody, PduKind, Security, Value, VarBind, Version};

/// Requests the broken agent answers before it stops (bounds the task).
const MAX_REQUESTS: usize = 50;

/// Answers each v2c request with garbage, then a response to another request-id, then a
/// response that names the requested OID itself (so GETNEXT/GETBULK never advance).
async fn broken_agent() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buffer = vec![0u8; 65_536];
        for _ in 0..MAX_REQUESTS {
            let Ok((length, source)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let Ok(decoded) = decode_message(&buffer[..length]) else {
                continue;
            };
            let Message::Community(CommunityMessage {
                community,
                pdu: PduBody::Pdu(request),
                ..
            }) = decoded.message
            else {
                continue;
            };
            let answer = |request_id: i32| {
                CommunityMessage {
                    version: Version::V2c,
                    community: community.clone(),
                    pdu: PduBody::Pdu(Pdu {
                        kind: PduKind::Response,
                        request_id,
                        error_status: 0,
                        error_index: 0,
                        varbinds: vec![VarBind::new(
                            request.varbinds[0].oid.clone(),
                            Value::Integer(1),
                        )],
                    }),
                }
                .encode()
            };
            socket.send_to(b"\x30\x03garbage", source).await.unwrap();
            socket
                .send_to(&answer(request.request_id.wrapping_add(1)), source)
                .await
                .unwrap();
            socket
                .send_to(&answer(request.request_id), source)
                .await
                .unwrap();
        }
    });
    (address, task)
}

#[tokio::test]
async fn stray_and_malformed_datagrams_are_ignored_and_non_increasing_walks_fail() {
    let (address, task) = broken_agent().await;
    let mut client = Client::new(address, Security::v2c("public"))
        .await
        .unwrap()
        .with_timeout(Duration::from_secs(5))
        .unwrap()
        .with_retries(0)
        .unwrap();
    let oid = Oid::parse("1.3.6.1.4.1.8072.9.1.0").unwrap();
    let varbinds = client.get(std::slice::from_ref(&oid)).await.unwrap();
    assert_eq!(varbinds, vec![VarBind::new(oid, Value::Integer(1))]);

    let root = Oid::parse("1.3.6.1.4.1.8072.9").unwrap();
    let error = client.walk(&root).await.unwrap_err();
    assert!(matches!(error, Error::NonIncreasingOid { .. }), "{error:?}");
    assert!(error.to_string().contains("ne suit pas"), "{error}");
    task.abort();
}
