//! Session Description Protocol (RFC 8866) reader: just enough to tell which media a camera
//! stream carries and with which codecs. The input comes from the device, so it is untrusted:
//! this never panics and ignores what it does not understand.

/// Most media sections read; a camera has a handful (video, audio, metadata, backchannel).
pub const MAX_MEDIA_SECTIONS: usize = 32;
/// Most codecs kept per media kind.
pub const MAX_CODECS: usize = 16;

/// What a stream description offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDescription {
    pub has_video: bool,
    pub has_audio: bool,
    /// Encoding names of the video payloads, upper case (`H264`, `H265`, `JPEG`…), in order
    /// of appearance, without duplicates.
    pub video_codecs: Vec<String>,
    pub audio_codecs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaKind {
    Video,
    Audio,
    Other,
}

/// One `m=` section: its kind, declared payload types and the `a=rtpmap` seen so far.
struct MediaSection {
    kind: MediaKind,
    payload_types: Vec<String>,
    rtpmaps: Vec<(String, String)>,
}

/// Reads an SDP document. Lines may end in CRLF or LF (devices do both).
pub fn parse_sdp(text: &str) -> SessionDescription {
    let mut sections: Vec<MediaSection> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(media) = line.strip_prefix("m=") {
            if sections.len() == MAX_MEDIA_SECTIONS {
                break;
            }
            let mut fields = media.split_ascii_whitespace();
            let kind = match fields.next() {
                Some("video") => MediaKind::Video,
                Some("audio") => MediaKind::Audio,
                _ => MediaKind::Other,
            };
            // m=<media> <port> <proto> <fmt> ...
            let payload_types = fields.skip(2).take(MAX_CODECS).map(str::to_owned).collect();
            sections.push(MediaSection {
                kind,
                payload_types,
                rtpmaps: Vec::new(),
            });
        } else if let Some(rtpmap) = line.strip_prefix("a=rtpmap:")
            && let Some(section) = sections.last_mut()
            && section.rtpmaps.len() < MAX_CODECS
            && let Some((payload_type, encoding)) = rtpmap.split_once(' ')
        {
            // encoding is <name>/<clock rate>[/<channels>]
            let name = encoding.split('/').next().unwrap_or_default().trim();
            if !name.is_empty() {
                section
                    .rtpmaps
                    .push((payload_type.trim().to_owned(), name.to_ascii_uppercase()));
            }
        }
    }

    let mut description = SessionDescription::default();
    for section in &sections {
        let codecs = match section.kind {
            MediaKind::Video => {
                description.has_video = true;
                &mut description.video_codecs
            }
            MediaKind::Audio => {
                description.has_audio = true;
                &mut description.audio_codecs
            }
            MediaKind::Other => continue,
        };
        for payload_type in &section.payload_types {
            let mapped = section
                .rtpmaps
                .iter()
                .find(|(mapped_type, _)| mapped_type == payload_type)
                .map(|(_, name)| name.clone())
                .or_else(|| static_payload_name(payload_type).map(str::to_owned));
            if let Some(name) = mapped
                && !codecs.contains(&name)
                && codecs.len() < MAX_CODECS
            {
                codecs.push(name);
            }
        }
    }
    description
}

/// Static RTP payload types (RFC 3551) that devices may leave without `a=rtpmap`.
fn static_payload_name(payload_type: &str) -> Option<&'static str> {
    match payload_type {
        "0" => Some("PCMU"),
        "8" => Some("PCMA"),
        "14" => Some("MPA"),
        "26" => Some("JPEG"),
        "32" => Some("MPV"),
        "34" => Some("H263"),
        _ => None,
    }
}
