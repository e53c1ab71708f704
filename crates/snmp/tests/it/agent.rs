//! Test peers: the shared net-snmp peers of `vigie_snmp::testing`, with this suite's v3 users.

pub use vigie_snmp::testing::{Agent, COMMUNITY, run_tool};

/// Password of every v3 test user (net-snmp wants at least 8 characters).
pub const AUTH_PASSWORD: &str = "authpassword1";
pub const PRIV_PASSWORD: &str = "privpassword1";

/// A private snmpd with the v3 users the client tests log in as.
pub async fn start_agent() -> Agent {
    Agent::start(&format!(
        "createUser usha SHA \"{AUTH_PASSWORD}\" AES \"{PRIV_PASSWORD}\"\n\
             createUser usha256 SHA-256 \"{AUTH_PASSWORD}\" AES \"{PRIV_PASSWORD}\"\n\
             createUser umd5 MD5 \"{AUTH_PASSWORD}\" DES \"{PRIV_PASSWORD}\"\n\
             createUser uauth SHA \"{AUTH_PASSWORD}\"\n\
             rouser usha priv\n\
             rouser usha256 priv\n\
             rouser umd5 priv\n\
             rouser uauth auth"
    ))
    .await
}
