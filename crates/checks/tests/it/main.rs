//! The one integration-test binary of vigie-checks: every check against a real peer started
//! by the test itself on 127.0.0.1, plus property tests of the parsers of untrusted input.

mod http;
mod onvif;
mod parsers;
mod peers;
mod rtsp;
mod tcp;
mod tls;
