//! Reading a PDF back as a person's tools would: poppler's `pdftotext`, `pdfinfo`, `pdffonts`
//! and `pdftoppm`, run on a file in a temporary folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PDF written to a folder of its own, removed when dropped.
pub struct PdfFile {
    folder: PathBuf,
    pub path: PathBuf,
}

impl PdfFile {
    pub fn new(name: &str, bytes: &[u8]) -> PdfFile {
        let folder =
            std::env::temp_dir().join(format!("vigie-report-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("a temporary folder");
        let path = folder.join(format!("{name}.pdf"));
        std::fs::write(&path, bytes).expect("the PDF written");
        PdfFile { folder, path }
    }

    /// The text of the pages, no-break spaces made plain spaces (pdftotext keeps them).
    pub fn text(&self) -> String {
        plain(&run("pdftotext", &[self.path.to_str().unwrap(), "-"]))
    }

    /// The text of one page (numbered from 1).
    pub fn page_text(&self, page: usize) -> String {
        let page = page.to_string();
        plain(&run(
            "pdftotext",
            &["-f", &page, "-l", &page, self.path.to_str().unwrap(), "-"],
        ))
    }

    pub fn info(&self) -> String {
        run("pdfinfo", &[self.path.to_str().unwrap()])
    }

    pub fn fonts(&self) -> String {
        run("pdffonts", &[self.path.to_str().unwrap()])
    }

    /// The number of pages, from `pdfinfo`.
    pub fn pages(&self) -> usize {
        self.info()
            .lines()
            .find_map(|line| line.strip_prefix("Pages:"))
            .and_then(|count| count.trim().parse().ok())
            .expect("pdfinfo gives the number of pages")
    }
}

impl Drop for PdfFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// Draws the pages as PNG files `<prefix>-N.png` at 60 dots per inch, for a person to look at.
pub fn draw_pages(pdf: &Path, prefix: &Path) {
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
}

/// The text with no-break spaces (U+00A0, U+202F) made plain spaces.
pub fn plain(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
}

fn run(program: &str, arguments: &[&str]) -> String {
    let output = Command::new(program).args(arguments).output().unwrap_or_else(|error| {
        panic!("{program} could not be run ({error}): install poppler-utils (scripts/packages/report.txt)")
    });
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 from poppler")
}
