//! The one integration-test binary of vigie-report: a realistic sample report rendered to PDF
//! and read back with poppler's tools (`scripts/packages/report.txt`), to HTML, and the charts'
//! SVG parsed as XML.

mod architecture;
mod chart;
mod html;
mod pdf;
mod poppler;
mod sample;
