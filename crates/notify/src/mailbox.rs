//! Reading a mailbox over IMAP (plain, STARTTLS required, or implicit TLS): the oldest messages
//! of one folder, whole up to a size bound, then filed into another folder once the caller has
//! recorded them. What a message means is not decided here (see [`crate::read_mail`]).
//!
//! Every command is bounded in time (`timeout_ms`) and every answer in size: the stream under
//! the IMAP client counts the bytes read for the command in flight and fails past that
//! command's budget, so a server that sends more than it announced cannot fill the memory.
//! After a failure other than a refusal (`NO`) the session is in an unknown state and refuses
//! further commands: the caller opens a new one.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_imap::error::Error as ImapError;
use async_imap::imap_proto::{Response, Status};
use async_imap::types::{Capabilities, Capability};
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::ConfigError;
use crate::error::{check_timeout, with_causes};

/// Largest `max_message_bytes` accepted. The IMAP client keeps a whole answer in memory and
/// refuses one above 512 MiB; a fetch holds up to `limit` messages at once.
const MAX_MESSAGE_BYTES_LIMIT: u64 = 256 * 1024 * 1024;

/// At most this much of the header of a message too large to fetch whole (a partial fetch,
/// `BODY.PEEK[HEADER]<0.N>`): enough for any real header, and a header-only message stays
/// small whatever its sender did.
const HEADER_ONLY_BYTES: u64 = 256 * 1024;

/// Budget of a command that carries no message: greeting, LOGIN, SELECT, CAPABILITY, CREATE,
/// MOVE, COPY, STORE, EXPUNGE, LOGOUT, with the unsolicited updates that may come with them.
const CONTROL_BUDGET: u64 = 1024 * 1024;

/// Budget of `UID SEARCH ALL`: about a million UIDs. A support mailbox that holds more is
/// not being emptied, and the error says so.
const SEARCH_BUDGET: u64 = 16 * 1024 * 1024;

/// Added to a message's size for the rest of its FETCH answer (UID, size, framing) and for
/// unsolicited updates arriving meanwhile.
const FETCH_OVERHEAD: u64 = 64 * 1024;

/// UIDs asked per `UID FETCH … (RFC822.SIZE)`: keeps the command line short (servers limit
/// it, Dovecot to 64 KiB) whatever the limit asked.
const SIZE_BATCH: usize = 100;

/// The most bytes of messages one fetch holds in memory (one message always fits, up to
/// `max_message_bytes`).
pub const FETCH_BYTES: u64 = 64 * 1024 * 1024;

/// Longest piece of a server's answer or of a library's error copied into a message: the
/// parsing error of a message answer would otherwise carry the whole message.
const MAX_DETAIL_CHARS: usize = 300;

/// How the connection to the IMAP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapSecurity {
    /// No encryption (a server on the same machine); no password allowed.
    None,
    /// Plain connection upgraded by STARTTLS (port 143 usually); the upgrade is required, never
    /// skipped, so the password and messages never travel in clear.
    StartTls,
    /// TLS from the first byte (port 993 usually).
    Tls,
}

/// How to reach the support mailbox.
///
/// Folder names are plain ASCII (IMAP writes other characters in a modified UTF-7 that this
/// crate does not produce): letters, digits, space and punctuation except `"`, `\`, `&`, `*`,
/// `%`. The hierarchy separator is the server's (`/` or `.`): `Vigie/Traites` on a server whose
/// separator is `.` is one folder named so, not a subfolder.
#[derive(Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub username: String,
    /// Required with STARTTLS or TLS; with [`ImapSecurity::None`], only to a server on this
    /// machine (a password never travels in clear on a network), else empty, LOGIN then
    /// sending an empty one.
    pub password: String,
    /// The folder read, `INBOX` usually.
    pub folder: String,
    /// Where a message goes once recorded (`Vigie/Traites`), created at the first filing if
    /// missing. Must differ from `folder`.
    pub processed_folder: String,
    /// Bound of each IMAP command (connection, TLS negotiation, greeting, each command).
    pub timeout_ms: u64,
    /// Accepts any server certificate (self-signed, expired, other name). **For tests only**:
    /// with it, anyone on the path can read the messages and the password.
    pub accept_invalid_certs: bool,
    /// A larger message (by the server's `RFC822.SIZE`) is fetched as its header only
    /// ([`FetchedMail::complete`] false).
    pub max_message_bytes: u64,
}

/// The password never appears in debug output.
impl fmt::Debug for ImapConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<masqué>")
            .field("folder", &self.folder)
            .field("processed_folder", &self.processed_folder)
            .field("timeout_ms", &self.timeout_ms)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("max_message_bytes", &self.max_message_bytes)
            .finish()
    }
}

/// Why reading or filing the mailbox failed. Every failure is worth a later attempt except a
/// configuration to fix (authentication, folder); the caller decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxError {
    /// The server was unreachable, or closed or lost the connection.
    #[error("connexion impossible avec le serveur IMAP : {0}")]
    Connection(String),
    /// The TLS negotiation failed (certificate refused…), or STARTTLS was refused.
    #[error("échec TLS avec le serveur IMAP : {0}")]
    Tls(String),
    /// LOGIN refused: wrong user or password.
    #[error("authentification refusée par le serveur IMAP : {0}")]
    Authentication(String),
    /// A folder could not be selected, or the processed folder could not be created.
    #[error("dossier IMAP introuvable « {folder} » : {detail}")]
    FolderNotFound { folder: String, detail: String },
    /// The server did not answer a step within `timeout_ms`.
    #[error("délai dépassé : le serveur IMAP n'a pas répondu à {step} en {timeout_ms} ms")]
    Timeout { step: String, timeout_ms: u64 },
    /// An answer the client could not use: refused command, unreadable or too long answer.
    #[error("échange IMAP impossible : {0}")]
    Protocol(String),
}

/// One message as fetched.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchedMail {
    /// The message's UID in the folder read, for [`MailboxSession::file`].
    pub uid: u32,
    /// Its size according to the server (`RFC822.SIZE`), in bytes.
    pub size: u64,
    /// The whole message when `complete`, otherwise its header only.
    pub raw: Vec<u8>,
    /// False when the message was larger than `max_message_bytes`.
    pub complete: bool,
}

/// The raw bytes are summed up, not dumped.
impl fmt::Debug for FetchedMail {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FetchedMail")
            .field("uid", &self.uid)
            .field("size", &self.size)
            .field("raw", &format_args!("<{} octets>", self.raw.len()))
            .field("complete", &self.complete)
            .finish()
    }
}

/// A support mailbox, built once from a checked configuration; each [`Mailbox::open`] opens
/// its own connection.
pub struct Mailbox {
    config: ImapConfig,
    timeout: Duration,
    /// With the server's name, for STARTTLS and TLS; `None` for a plain connection.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Mailbox")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Mailbox {
    pub fn new(config: ImapConfig) -> Result<Mailbox, ConfigError> {
        let timeout = check_timeout(config.timeout_ms)?;
        let invalid = |reason: String| ConfigError::InvalidImap(reason);
        let host = config.host.trim().to_owned();
        if host.is_empty() {
            return Err(invalid("hôte vide".to_owned()));
        }
        if config.port == 0 {
            return Err(invalid("port 0".to_owned()));
        }
        let username = config.username.trim().to_owned();
        if username.is_empty() {
            return Err(invalid("utilisateur vide".to_owned()));
        }
        // LOGIN sends both as quoted strings: a line break would end the command.
        if has_control(&username) || has_control(&config.password) {
            return Err(invalid(
                "caractère de contrôle dans l'utilisateur ou le mot de passe".to_owned(),
            ));
        }
        match (config.security, config.password.is_empty()) {
            // A server on this machine is reached without a network: the password stays on it.
            (ImapSecurity::None, false) if !is_loopback(&host) => {
                return Err(invalid(
                    "un mot de passe ne circule pas en clair : choisissez STARTTLS ou TLS \
                     (ou un serveur de cette machine)"
                        .to_owned(),
                ));
            }
            (ImapSecurity::StartTls | ImapSecurity::Tls, true) => {
                return Err(invalid("mot de passe vide".to_owned()));
            }
            _ => {}
        }
        let folder = check_folder(&config.folder)?;
        let processed_folder = check_folder(&config.processed_folder)?;
        if same_folder(&folder, &processed_folder) {
            return Err(invalid(format!(
                "le dossier des messages traités « {processed_folder} » doit différer du \
                 dossier lu"
            )));
        }
        if config.max_message_bytes == 0 || config.max_message_bytes > MAX_MESSAGE_BYTES_LIMIT {
            return Err(invalid(format!(
                "taille maximale de message invalide : {} octets (attendu entre 1 et \
                 {MAX_MESSAGE_BYTES_LIMIT})",
                config.max_message_bytes
            )));
        }
        let tls = match config.security {
            ImapSecurity::None => None,
            ImapSecurity::StartTls | ImapSecurity::Tls => {
                let name = ServerName::try_from(host.clone())
                    .map_err(|error| invalid(format!("hôte invalide « {host} » : {error}")))?;
                Some((tls_connector(config.accept_invalid_certs)?, name))
            }
        };
        Ok(Mailbox {
            config: ImapConfig {
                host,
                username,
                folder,
                processed_folder,
                ..config
            },
            timeout,
            tls,
        })
    }

    /// Connects, reads the greeting, upgrades by STARTTLS when configured, logs in and selects
    /// the folder read.
    pub async fn open(&self) -> Result<MailboxSession, MailboxError> {
        let config = &self.config;
        let address = format!("{}:{}", config.host, config.port);
        let tcp = within(
            self.timeout,
            "la connexion",
            TcpStream::connect((config.host.as_str(), config.port)),
        )
        .await?
        .map_err(|error| MailboxError::Connection(clip(&format!("{address} : {error}"))))?;
        // Commands are small and each waits for its answer: no reason to delay them.
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = match config.security {
            ImapSecurity::Tls => Box::new(self.handshake(tcp).await?),
            ImapSecurity::None | ImapSecurity::StartTls => Box::new(tcp),
        };
        let mut client = Client::new(Metered::new(stream));
        self.greeting(&mut client).await?;
        if config.security == ImapSecurity::StartTls {
            client = self.start_tls(client).await?;
        }

        let login = within(
            self.timeout,
            "LOGIN",
            client.login_with_capabilities(&config.username, &config.password),
        )
        .await?;
        let (mut session, capabilities) = match login {
            Ok(logged_in) => logged_in,
            Err((ImapError::No(text), _client)) => {
                return Err(MailboxError::Authentication(server_text(&text)));
            }
            Err((error, _client)) => return Err(classify("LOGIN", &error)),
        };
        let capabilities = match capabilities {
            Some(capabilities) => capabilities,
            None => {
                session.get_mut().allow(CONTROL_BUDGET);
                within(self.timeout, "CAPABILITY", session.capabilities())
                    .await?
                    .map_err(|error| classify("CAPABILITY", &error))?
            }
        };

        session.get_mut().allow(CONTROL_BUDGET);
        match within(self.timeout, "SELECT", session.select(&config.folder)).await? {
            Ok(_mailbox) => {}
            Err(ImapError::No(text)) => {
                return Err(MailboxError::FolderNotFound {
                    folder: config.folder.clone(),
                    detail: server_text(&text),
                });
            }
            Err(error) => return Err(classify("SELECT", &error)),
        }
        Ok(MailboxSession {
            session,
            processed_folder: config.processed_folder.clone(),
            timeout: self.timeout,
            max_message_bytes: config.max_message_bytes,
            can_move: has_capability(&capabilities, "MOVE"),
            uidplus: has_capability(&capabilities, "UIDPLUS"),
            creation_tried: false,
            broken: None,
            left: 0,
        })
    }

    async fn handshake<S>(
        &self,
        stream: S,
    ) -> Result<tokio_rustls::client::TlsStream<S>, MailboxError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let Some((connector, name)) = &self.tls else {
            return Err(MailboxError::Tls("TLS non configuré".to_owned()));
        };
        within(
            self.timeout,
            "la négociation TLS",
            connector.connect(name.clone(), stream),
        )
        .await?
        .map_err(|error| MailboxError::Tls(clip(&with_causes(&error))))
    }

    /// Reads the server's first line: `* OK` (or `* PREAUTH`) to go on, `* BYE` to give up.
    async fn greeting(&self, client: &mut Client<Metered>) -> Result<(), MailboxError> {
        client.get_mut().allow(CONTROL_BUDGET);
        let greeting = within(self.timeout, "l'accueil", client.read_response())
            .await?
            .map_err(|error| {
                let error = ImapError::Io(error);
                classify("l'accueil", &error)
            })?
            .ok_or_else(|| {
                MailboxError::Connection("le serveur IMAP a fermé la connexion sans accueil".into())
            })?;
        match greeting.parsed() {
            Response::Data {
                status: Status::Ok | Status::PreAuth,
                ..
            } => Ok(()),
            Response::Data {
                status: Status::Bye,
                information,
                ..
            } => Err(MailboxError::Connection(clip(&format!(
                "le serveur IMAP refuse la connexion : {}",
                information.as_deref().unwrap_or("")
            )))),
            other => Err(MailboxError::Protocol(clip(&format!(
                "accueil inattendu : {other:?}"
            )))),
        }
    }

    /// STARTTLS, then the TLS negotiation on the same connection. Refused or not offered, it
    /// fails: the password is never sent in clear.
    async fn start_tls(
        &self,
        mut client: Client<Metered>,
    ) -> Result<Client<Metered>, MailboxError> {
        client.get_mut().allow(CONTROL_BUDGET);
        match within(
            self.timeout,
            "STARTTLS",
            client.run_command_and_check_ok("STARTTLS", None),
        )
        .await?
        {
            Ok(()) => {}
            Err(ImapError::No(text) | ImapError::Bad(text)) => {
                return Err(MailboxError::Tls(format!(
                    "STARTTLS refusé ({}) : la connexion ne serait pas chiffrée",
                    server_text(&text)
                )));
            }
            Err(error) => return Err(classify("STARTTLS", &error)),
        }
        // Anything the server sent after its answer is dropped with the plain client, as
        // RFC 3501 requires: it could have been injected before the encryption.
        let plain = client.into_inner().inner;
        let encrypted = self.handshake(plain).await?;
        Ok(Client::new(Metered::new(Box::new(encrypted))))
    }
}

/// An open, logged-in session on the folder read. Dropping it closes the connection; [`close`]
/// says goodbye first.
///
/// [`close`]: MailboxSession::close
pub struct MailboxSession {
    session: Session<Metered>,
    processed_folder: String,
    timeout: Duration,
    max_message_bytes: u64,
    /// The server has MOVE (RFC 6851): filing is one atomic command.
    can_move: bool,
    /// The server has UID EXPUNGE (RFC 4315): the fallback expunges only the filed message.
    uidplus: bool,
    /// CREATE of the processed folder was tried in this session (at most once).
    creation_tried: bool,
    /// The failure that left the session in an unknown state, if any.
    broken: Option<MailboxError>,
    /// Messages the last fetch left in the folder (beyond its number or bytes bound).
    left: usize,
}

impl fmt::Debug for MailboxSession {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MailboxSession")
            .field("processed_folder", &self.processed_folder)
            .field("can_move", &self.can_move)
            .field("uidplus", &self.uidplus)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

/// How a command failed.
enum Failure {
    /// The server answered NO: refused, but the session is still usable.
    Refused(String),
    /// Anything else: the session is now unusable.
    Broken(MailboxError),
}

impl MailboxSession {
    /// The oldest messages of the folder (by UID, ascending), at most `limit`: `UID SEARCH ALL`,
    /// then `RFC822.SIZE`, then `BODY.PEEK[]` for those <= `max_message_bytes` and
    /// `BODY.PEEK[HEADER]` (its first 256 KiB) for the others.
    ///
    /// Nothing is marked read (`PEEK`): a message stays in the folder, unchanged, until
    /// [`file`](MailboxSession::file). A message expunged by someone else meanwhile is skipped.
    pub async fn fetch(&mut self, limit: usize) -> Result<Vec<FetchedMail>, MailboxError> {
        if let Some(error) = &self.broken {
            return Err(unusable(error));
        }
        if limit == 0 {
            return Ok(Vec::new());
        }
        let found = self
            .run("UID SEARCH", SEARCH_BUDGET, |session| {
                session.uid_search("ALL")
            })
            .await
            .map_err(|failure| refused_as_protocol("UID SEARCH", failure))?;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        self.left = uids.len().saturating_sub(limit);
        uids.truncate(limit);

        let mut sizes = HashMap::with_capacity(uids.len());
        for batch in uids.chunks(SIZE_BATCH) {
            let set = uid_set(batch);
            let budget = CONTROL_BUDGET + 128 * batch.len() as u64;
            let found = self
                .run("UID FETCH", budget, |session| async move {
                    let mut answers = session.uid_fetch(set, "(UID RFC822.SIZE)").await?;
                    let mut found = Vec::new();
                    while let Some(fetch) = answers.try_next().await? {
                        if let (Some(uid), Some(size)) = (fetch.uid, fetch.size) {
                            found.push((uid, u64::from(size)));
                        }
                    }
                    Ok(found)
                })
                .await
                .map_err(|failure| refused_as_protocol("UID FETCH", failure))?;
            sizes.extend(found);
        }

        let mut mails = Vec::with_capacity(uids.len());
        let mut bytes = 0u64;
        let count = uids.len();
        for (index, uid) in uids.into_iter().enumerate() {
            let Some(&size) = sizes.get(&uid) else {
                continue;
            };
            let complete = size <= self.max_message_bytes;
            // A batch holds at most FETCH_BYTES in memory (always one message): the rest
            // waits for the next fetch.
            let cost = if complete { size } else { HEADER_ONLY_BYTES };
            if !mails.is_empty() && bytes.saturating_add(cost) > FETCH_BYTES {
                self.left += count - index;
                break;
            }
            bytes = bytes.saturating_add(cost);
            let (query, budget) = if complete {
                ("BODY.PEEK[]".to_owned(), self.max_message_bytes)
            } else {
                (
                    format!("BODY.PEEK[HEADER]<0.{HEADER_ONLY_BYTES}>"),
                    HEADER_ONLY_BYTES,
                )
            };
            let raw = self
                .run("UID FETCH", budget + FETCH_OVERHEAD, |session| async move {
                    let mut answers = session.uid_fetch(uid.to_string(), query).await?;
                    let mut raw = None;
                    // Unsolicited FETCH answers (another client's flag change) come in the same
                    // stream: only this UID's data counts.
                    while let Some(fetch) = answers.try_next().await? {
                        if fetch.uid == Some(uid) {
                            let data = if complete {
                                fetch.body()
                            } else {
                                fetch.header()
                            };
                            if let Some(data) = data {
                                raw = Some(data.to_vec());
                            }
                        }
                    }
                    Ok(raw)
                })
                .await
                .map_err(|failure| refused_as_protocol("UID FETCH", failure))?;
            if let Some(raw) = raw {
                mails.push(FetchedMail {
                    uid,
                    size,
                    raw,
                    complete,
                });
            }
        }
        Ok(mails)
    }

    /// How many messages the last [`fetch`](MailboxSession::fetch) left in the folder, beyond
    /// its number or bytes bound: the caller fetches again at once when some are.
    pub fn left(&self) -> usize {
        self.left
    }

    /// Moves message `uid` to `processed_folder` (MOVE when the server has it, else
    /// `UID COPY` + `\Deleted` + `UID EXPUNGE`), creating the folder once if missing.
    ///
    /// Without UIDPLUS the last step is a plain EXPUNGE, which also removes any other message
    /// of the folder marked `\Deleted`. A UID no longer in the folder is not an error (servers
    /// answer OK to an empty set): filing twice is harmless.
    pub async fn file(&mut self, uid: u32) -> Result<(), MailboxError> {
        if let Some(error) = &self.broken {
            return Err(unusable(error));
        }
        let verb = if self.can_move {
            "UID MOVE"
        } else {
            "UID COPY"
        };
        match self.transfer(uid).await {
            Ok(()) => {}
            Err(Failure::Broken(error)) => return Err(error),
            Err(Failure::Refused(text)) if self.creation_tried => {
                return Err(self.filing_refused(verb, &text));
            }
            // The usual refusal: the folder does not exist yet ([TRYCREATE]). Created once per
            // session; a CREATE refused because it exists is fine, the retry says the rest.
            Err(Failure::Refused(_)) => {
                self.creation_tried = true;
                let folder = self.processed_folder.clone();
                let created = self
                    .run("CREATE", CONTROL_BUDGET, |session| session.create(folder))
                    .await;
                let creation_refused = match created {
                    Ok(()) => None,
                    Err(Failure::Refused(text)) => Some(text),
                    Err(Failure::Broken(error)) => return Err(error),
                };
                match self.transfer(uid).await {
                    Ok(()) => {}
                    Err(Failure::Broken(error)) => return Err(error),
                    Err(Failure::Refused(text)) => {
                        return Err(match creation_refused {
                            Some(creation) => MailboxError::FolderNotFound {
                                folder: self.processed_folder.clone(),
                                detail: format!("création refusée : {creation}"),
                            },
                            None => self.filing_refused(verb, &text),
                        });
                    }
                }
            }
        }
        if self.can_move {
            return Ok(());
        }
        let set = uid.to_string();
        let flagged = set.clone();
        self.run("UID STORE", CONTROL_BUDGET, |session| async move {
            let mut answers = session
                .uid_store(flagged, "+FLAGS.SILENT (\\Deleted)")
                .await?;
            while answers.try_next().await?.is_some() {}
            Ok(())
        })
        .await
        .map_err(|failure| refused_as_protocol("UID STORE", failure))?;
        if self.uidplus {
            self.run("UID EXPUNGE", CONTROL_BUDGET, |session| async move {
                let mut answers = std::pin::pin!(session.uid_expunge(set).await?);
                while answers.try_next().await?.is_some() {}
                Ok(())
            })
            .await
            .map_err(|failure| refused_as_protocol("UID EXPUNGE", failure))
        } else {
            self.run("EXPUNGE", CONTROL_BUDGET, |session| async move {
                let mut answers = std::pin::pin!(session.expunge().await?);
                while answers.try_next().await?.is_some() {}
                Ok(())
            })
            .await
            .map_err(|failure| refused_as_protocol("EXPUNGE", failure))
        }
    }

    /// LOGOUT, errors ignored: the messages are already filed or left for next time.
    pub async fn close(mut self) {
        if self.broken.is_none() {
            self.session.get_mut().allow(CONTROL_BUDGET);
            let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
        }
    }

    /// MOVE, or the COPY that starts the fallback.
    async fn transfer(&mut self, uid: u32) -> Result<(), Failure> {
        let folder = self.processed_folder.clone();
        if self.can_move {
            self.run("UID MOVE", CONTROL_BUDGET, |session| {
                session.uid_mv(uid.to_string(), folder)
            })
            .await
        } else {
            self.run("UID COPY", CONTROL_BUDGET, |session| {
                session.uid_copy(uid.to_string(), folder)
            })
            .await
        }
    }

    fn filing_refused(&self, verb: &str, text: &str) -> MailboxError {
        MailboxError::Protocol(format!(
            "{verb} vers « {} » refusé : {text}",
            self.processed_folder
        ))
    }

    /// Runs one command within the timeout and the read budget; any failure but a refusal
    /// leaves the session unusable.
    async fn run<'s, T, F>(
        &'s mut self,
        step: &str,
        budget: u64,
        command: impl FnOnce(&'s mut Session<Metered>) -> F,
    ) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, ImapError>> + 's,
    {
        self.session.get_mut().allow(budget);
        let outcome = match tokio::time::timeout(self.timeout, command(&mut self.session)).await {
            Err(_elapsed) => Err(timeout_error(step, self.timeout)),
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(ImapError::No(text))) => return Err(Failure::Refused(server_text(&text))),
            Ok(Err(error)) => Err(classify(step, &error)),
        };
        outcome.map_err(|error| {
            self.broken = Some(error.clone());
            Failure::Broken(error)
        })
    }
}

/// A refusal where none is expected (SEARCH, FETCH, STORE, EXPUNGE): the session stays usable.
fn refused_as_protocol(step: &str, failure: Failure) -> MailboxError {
    match failure {
        Failure::Refused(text) => MailboxError::Protocol(format!("{step} refusé : {text}")),
        Failure::Broken(error) => error,
    }
}

fn unusable(error: &MailboxError) -> MailboxError {
    MailboxError::Protocol(clip(&format!(
        "session inutilisable après une erreur ({error}) : ouvrir une nouvelle session"
    )))
}

/// Bounds one step in time; the step's own result is left to the caller.
async fn within<T>(
    timeout: Duration,
    step: &str,
    future: impl Future<Output = T>,
) -> Result<T, MailboxError> {
    tokio::time::timeout(timeout, future)
        .await
        .map_err(|_elapsed| timeout_error(step, timeout))
}

fn timeout_error(step: &str, timeout: Duration) -> MailboxError {
    MailboxError::Timeout {
        step: step.to_owned(),
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

/// What an error of the IMAP client means, `NO` aside (each caller knows what a refusal means).
fn classify(step: &str, error: &ImapError) -> MailboxError {
    match error {
        ImapError::Io(io_error) => {
            if let Some(too_long) = io_error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<AnswerTooLong>())
            {
                return MailboxError::Protocol(format!("réponse à {step} : {too_long}"));
            }
            MailboxError::Connection(clip(&format!(
                "échange interrompu pendant {step} : {}",
                with_causes(io_error)
            )))
        }
        ImapError::ConnectionLost => MailboxError::Connection(format!(
            "le serveur IMAP a fermé la connexion pendant {step}"
        )),
        ImapError::Bad(text) | ImapError::No(text) => {
            MailboxError::Protocol(clip(&format!("{step} rejeté : {}", server_text(text))))
        }
        other => MailboxError::Protocol(clip(&format!(
            "réponse illisible à {step} : {}",
            with_causes(other)
        ))),
    }
}

/// The server's words in an async-imap refusal (`code: Some(TryCreate), info: Some("…")`),
/// at most [`MAX_DETAIL_CHARS`] characters.
fn server_text(text: &str) -> String {
    let information = text.split_once("info: Some(\"").map(|(_, rest)| {
        rest.strip_suffix("\")")
            .unwrap_or(rest)
            .replace("\\\"", "\"")
    });
    clip(information.as_deref().unwrap_or(text))
}

fn clip(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= MAX_DETAIL_CHARS {
        clean.to_owned()
    } else {
        let mut clipped: String = clean.chars().take(MAX_DETAIL_CHARS).collect();
        clipped.push('…');
        clipped
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Capability names are case-insensitive atoms.
fn has_capability(capabilities: &Capabilities, name: &str) -> bool {
    capabilities.iter().any(|capability| match capability {
        Capability::Atom(atom) => atom.eq_ignore_ascii_case(name),
        _ => false,
    })
}

/// A folder name as sent: trimmed, plain ASCII without the characters IMAP treats specially.
fn check_folder(name: &str) -> Result<String, ConfigError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ConfigError::InvalidImap("dossier vide".to_owned()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(' '..='~').contains(c) || matches!(c, '"' | '\\' | '&' | '*' | '%'))
    {
        return Err(ConfigError::InvalidImap(format!(
            "dossier « {name} » : caractère {bad:?} refusé (ASCII visible seulement, sans \" \\ \
             & * %)"
        )));
    }
    Ok(name.to_owned())
}

/// `INBOX` is case-insensitive (RFC 3501); other names are compared as written.
fn same_folder(left: &str, right: &str) -> bool {
    left == right || (left.eq_ignore_ascii_case("INBOX") && right.eq_ignore_ascii_case("INBOX"))
}

/// `3,5:9` from sorted UIDs: consecutive ones as ranges.
fn uid_set(uids: &[u32]) -> String {
    let mut set = String::new();
    let mut index = 0;
    while index < uids.len() {
        let start = uids[index];
        let mut end = start;
        while index + 1 < uids.len() && uids[index + 1] == end.wrapping_add(1) {
            index += 1;
            end = uids[index];
        }
        if !set.is_empty() {
            set.push(',');
        }
        if start == end {
            set.push_str(&start.to_string());
        } else {
            set.push_str(&format!("{start}:{end}"));
        }
        index += 1;
    }
    set
}

fn tls_connector(accept_invalid_certs: bool) -> Result<TlsConnector, ConfigError> {
    // Our own provider rather than the process default, which another crate of the
    // program may have set differently, or not at all.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| ConfigError::Tls(with_causes(&error)))?;
    let config = if accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Accepts any certificate (`accept_invalid_certs`, tests only), while still checking that
/// the server holds the key of the certificate it showed.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What the IMAP client runs on: a TCP stream, or TLS over one.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Io for T {}

/// The connection, counting the bytes read against the budget of the command in flight.
#[derive(Debug)]
struct Metered {
    inner: Box<dyn Io>,
    budget: u64,
    remaining: u64,
}

/// Why a read was stopped: the answer to one command outgrew its budget.
#[derive(Debug)]
struct AnswerTooLong {
    budget: u64,
}

impl fmt::Display for AnswerTooLong {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "réponse du serveur IMAP plus longue que {} octets",
            self.budget
        )
    }
}

impl std::error::Error for AnswerTooLong {}

impl Metered {
    fn new(inner: Box<dyn Io>) -> Metered {
        Metered {
            inner,
            budget: CONTROL_BUDGET,
            remaining: CONTROL_BUDGET,
        }
    }

    /// Sets the budget of the next command.
    fn allow(&mut self, budget: u64) {
        self.budget = budget;
        self.remaining = budget;
    }
}

impl AsyncRead for Metered {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(Err(io::Error::other(AnswerTooLong {
                budget: this.budget,
            })));
        }
        // Never asks the peer for more than the budget left, so it is never exceeded.
        let allowed = usize::try_from(this.remaining)
            .unwrap_or(usize::MAX)
            .min(buffer.remaining());
        let mut limited = ReadBuf::new(buffer.initialize_unfilled_to(allowed));
        ready!(Pin::new(&mut this.inner).poll_read(context, &mut limited))?;
        let read = limited.filled().len();
        buffer.advance(read);
        this.remaining -= read as u64;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(context, data)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(context)
    }
}

/// Whether `host` is this machine (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ImapConfig {
        ImapConfig {
            host: "imap.example.fr".to_owned(),
            port: 993,
            security: ImapSecurity::Tls,
            username: "support".to_owned(),
            password: "secret-imap".to_owned(),
            folder: "INBOX".to_owned(),
            processed_folder: "Vigie/Traites".to_owned(),
            timeout_ms: 10_000,
            accept_invalid_certs: false,
            max_message_bytes: 25 * 1024 * 1024,
        }
    }

    /// The server runs these on a multi-threaded runtime, in spawned tasks.
    #[test]
    fn futures_are_send() {
        fn send<T: Send>(_: &T) {}
        let mailbox = Mailbox::new(config()).unwrap();
        let open = mailbox.open();
        send(&open);
        drop(open);
        #[allow(dead_code)]
        async fn session_futures(mut session: MailboxSession) {
            let fetch = session.fetch(1);
            send(&fetch);
            drop(fetch);
            let file = session.file(1);
            send(&file);
            drop(file);
            send(&session.close());
        }
    }

    #[test]
    fn uid_sets_group_consecutive_uids() {
        assert_eq!(uid_set(&[1]), "1");
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[test]
    fn server_text_keeps_the_servers_words() {
        assert_eq!(
            server_text(
                r#"code: Some(TryCreate), info: Some("Mailbox doesn't exist: Vigie/Traites")"#
            ),
            "Mailbox doesn't exist: Vigie/Traites"
        );
        assert_eq!(server_text("something else"), "something else");
        assert_eq!(
            clip(&"x".repeat(1000)).chars().count(),
            MAX_DETAIL_CHARS + 1
        );
    }

    #[test]
    fn valid_configuration_is_accepted_and_normalised() {
        let mailbox = Mailbox::new(ImapConfig {
            host: " imap.example.fr ".to_owned(),
            folder: " INBOX ".to_owned(),
            ..config()
        })
        .unwrap();
        assert_eq!(mailbox.config.host, "imap.example.fr");
        assert_eq!(mailbox.config.folder, "INBOX");
        let debug = format!("{mailbox:?}");
        assert!(!debug.contains("secret-imap"), "{debug}");
        assert!(debug.contains("<masqué>"), "{debug}");
    }

    #[test]
    fn folders_must_be_plain_ascii_and_distinct() {
        for folder in ["", "  ", "Boîte", "A&B", "A*", "A%", "A\"B", "A\\B", "A\nB"] {
            let error = Mailbox::new(ImapConfig {
                processed_folder: folder.to_owned(),
                ..config()
            })
            .unwrap_err();
            assert!(
                matches!(error, ConfigError::InvalidImap(_)),
                "{folder:?}: {error}"
            );
        }
        let same = Mailbox::new(ImapConfig {
            folder: "inbox".to_owned(),
            processed_folder: "INBOX".to_owned(),
            ..config()
        })
        .unwrap_err();
        assert!(same.to_string().contains("différer"), "{same}");
    }
}
