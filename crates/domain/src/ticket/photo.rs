//! A photo a client adds to its ticket from the portal (issue 25, item 12): what is accepted
//! is read from the bytes themselves, not from the name or the type the browser claims, so
//! that only JPEG, PNG and WebP pictures are kept and served back (never a page or a script
//! named `.jpg`).

/// The largest photo kept: a phone's picture at full size.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The most photos one ticket keeps.
pub const MAX_PHOTOS_PER_TICKET: i64 = 20;
/// The longest file name kept (characters), the rest cut.
pub const MAX_PHOTO_NAME_CHARS: usize = 100;

/// The picture format of `bytes`, as a content type, from its signature; `None` for anything
/// else (an empty file, a document, an SVG, which can carry a script).
pub fn photo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A file name fit to be shown and stored: its last path part, control characters dropped,
/// at most [`MAX_PHOTO_NAME_CHARS`], « photo » when nothing is left.
pub fn photo_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PHOTO_NAME_CHARS)
        .collect();
    match kept.trim() {
        "" => "photo".into(),
        name => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_is_known_by_its_bytes_not_its_name() {
        assert_eq!(
            photo_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(
            photo_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(photo_type(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        for other in [
            &b""[..],
            b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
            b"<html><script>alert(1)</script>",
            b"%PDF-1.7",
            b"RIFF\0\0\0\0WAVE",
            b"\xFF\xD8",
        ] {
            assert_eq!(photo_type(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_photo_name_keeps_its_last_part_without_control_characters() {
        assert_eq!(photo_name("C:\\Users\\rs\\IMG_0042.jpg"), "IMG_0042.jpg");
        assert_eq!(photo_name("../../etc/passwd"), "passwd");
        assert_eq!(photo_name("a\u{0}b\nc.png"), "abc.png");
        assert_eq!(photo_name("  "), "photo");
        assert_eq!(
            photo_name(&"é".repeat(300)).chars().count(),
            MAX_PHOTO_NAME_CHARS
        );
    }
}
