//! Charts as vector graphics: bar, line and stacked-bar charts written as SVG text, the same
//! SVG inlined in the HTML page and embedded in the PDF. Every label is escaped, every count
//! bounded; what a bound leaves out is said in a French note under the chart.

use serde::{Deserialize, Serialize};

use crate::document::Tone;
use crate::french::{format_number, format_quantity, french_spacing};
use crate::markup::escape;
use crate::prepare::shorten;

/// At most this many bars in a bar chart: beyond, a bar is too thin to read.
pub const MAX_BARS: usize = 60;
/// At most this many points on a line chart's horizontal axis (a year of days).
pub const MAX_POINTS: usize = 400;
/// At most this many series in a line chart, or layers in a stacked-bar chart: beyond, the
/// colours cannot be told apart.
pub const MAX_SERIES: usize = 8;
/// At most this many categories (bars) in a stacked-bar chart.
pub const MAX_CATEGORIES: usize = 60;
/// Labels are cut to this many characters, with an ellipsis.
pub const MAX_LABEL_CHARS: usize = 40;

/// The width of every chart in SVG units; the renderers scale it to the text width.
const WIDTH: f64 = 640.0;
/// The families asked of the PDF renderer (the embedded Libertinus Serif) and, in HTML, the
/// page's own font, which the stylesheet sets on the SVG's text.
const FONT_FAMILY: &str = "Libertinus Serif, Georgia, serif";
const FONT_SIZE: f64 = 12.0;
const SMALL_FONT_SIZE: f64 = 11.0;
/// The average advance of a character at [`FONT_SIZE`], to lay out legends and labels
/// without measuring text.
const CHAR_WIDTH: f64 = 6.2;
const TEXT_COLOUR: &str = "#333333";
const MUTED_COLOUR: &str = "#666666";
const GRID_COLOUR: &str = "#e3e3e3";
const AXIS_COLOUR: &str = "#999999";
const THRESHOLD_COLOUR: &str = "#8b1a1a";
/// At most this many labels along a horizontal axis; the others are skipped evenly.
const MAX_AXIS_LABELS: usize = 12;

/// A chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    /// One value per label, e.g. availability per site with the contract's line.
    Bars(BarChart),
    /// Values over time, e.g. disk use per day with a dashed forecast.
    Lines(LineChart),
    /// Bars made of layers, e.g. alarms per week by severity.
    Stacked(StackedBars),
}

/// A bar chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub orientation: Orientation,
    pub bars: Vec<Bar>,
    /// The values' unit, e.g. `%` (may be empty).
    pub unit: String,
    /// Decimals of the values written beside the bars.
    pub decimals: u8,
    /// A reference line, e.g. the contract's 99 %.
    pub threshold: Option<Threshold>,
    /// Where the value axis starts (default: 0, or below the smallest negative value); e.g.
    /// 95 for availabilities, so that 99,2 and 99,9 can be told apart.
    pub minimum: Option<f64>,
    /// Where the value axis ends (default: just above the largest value), e.g. 100 for %.
    pub maximum: Option<f64>,
}

/// Bars side by side (vertical) or one under another (horizontal, best for long labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    Horizontal,
    Vertical,
}

/// One bar; its tone gives its colour (blue, orange, red).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub tone: Tone,
}

/// A reference line across a chart, with its label (e.g. « Contrat : 99 % »).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    pub label: String,
}

/// A line chart over labelled points (days, weeks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineChart {
    /// The points' labels along the horizontal axis, e.g. « 01/11 ».
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    pub unit: String,
    /// Decimals of the value axis' labels at most (fewer when the step allows).
    pub decimals: u8,
    pub threshold: Option<Threshold>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

/// One line: a value per point of the axis (`None` where there is none, which breaks the
/// line). A dashed series reads as a forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub colour: Colour,
    pub values: Vec<Option<f64>>,
    pub dashed: bool,
}

/// Stacked bars: one bar per category, made of one segment per layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackedBars {
    /// The bars' labels, e.g. « S45 ».
    pub categories: Vec<String>,
    /// Bottom layer first, e.g. Critique, Majeur, Mineur.
    pub layers: Vec<Layer>,
    pub unit: String,
    pub decimals: u8,
}

/// One layer of stacked bars: a value per category (negative values count as 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub name: String,
    pub colour: Colour,
    pub values: Vec<f64>,
}

/// The palette: a fixed set of colours that print well and can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Blue,
    Teal,
    Green,
    Yellow,
    Orange,
    Red,
    Violet,
    Grey,
}

impl Colour {
    /// The colour as CSS/SVG hexadecimal.
    pub fn hex(self) -> &'static str {
        match self {
            Colour::Blue => "#2b6cb0",
            Colour::Teal => "#2a9d8f",
            Colour::Green => "#3f8f3f",
            Colour::Yellow => "#d9a404",
            Colour::Orange => "#e07b24",
            Colour::Red => "#c0392b",
            Colour::Violet => "#7d5ba6",
            Colour::Grey => "#7f8c8d",
        }
    }

    /// The colour of a bar of this tone.
    pub fn of_tone(tone: Tone) -> Colour {
        match tone {
            Tone::Normal => Colour::Blue,
            Tone::Warning => Colour::Orange,
            Tone::Critical => Colour::Red,
        }
    }
}

impl Chart {
    /// The chart as a standalone SVG element, `caption` as its accessible name. Its width is
    /// 640 units and its height depends on the content; it scales to any width.
    pub fn svg(&self, caption: &str) -> String {
        match self {
            Chart::Bars(chart) => match chart.orientation {
                Orientation::Horizontal => horizontal_bars(chart, caption),
                Orientation::Vertical => vertical_bars(chart, caption),
            },
            Chart::Lines(chart) => lines(chart, caption),
            Chart::Stacked(chart) => stacked(chart, caption),
        }
    }

    /// What the bounds left out of the drawing, as French sentences, if anything.
    pub fn omission_note(&self) -> Option<String> {
        let mut notes = Vec::new();
        match self {
            Chart::Bars(chart) => {
                notes.extend(omitted(chart.bars.len(), MAX_BARS, "barres", true));
            }
            Chart::Lines(chart) => {
                notes.extend(omitted(chart.series.len(), MAX_SERIES, "séries", true));
                notes.extend(omitted(chart.x_labels.len(), MAX_POINTS, "points", false));
            }
            Chart::Stacked(chart) => {
                notes.extend(omitted(chart.layers.len(), MAX_SERIES, "séries", true));
                notes.extend(omitted(
                    chart.categories.len(),
                    MAX_CATEGORIES,
                    "barres",
                    true,
                ));
            }
        }
        (!notes.is_empty()).then(|| notes.join(" "))
    }
}

/// « Graphique limité à 60 barres : les 12 suivantes ne sont pas affichées. » when `total`
/// exceeds `kept`.
fn omitted(total: usize, kept: usize, things: &str, feminine: bool) -> Option<String> {
    let (following, shown) = if feminine {
        ("suivantes", "affichées")
    } else {
        ("suivants", "affichés")
    };
    (total > kept).then(|| {
        format!(
            "Graphique limité à {kept} {things}\u{a0}: les {} {following} ne sont pas {shown}.",
            format_number((total - kept) as f64, 0)
        )
    })
}

/// A value axis: its ends, its graduations and their decimals.
struct Axis {
    low: f64,
    high: f64,
    ticks: Vec<f64>,
    decimals: u8,
}

impl Axis {
    /// An axis covering `values` (finite ones) and 0, or the given ends, graduated in about
    /// five round steps (1, 2, 2.5 or 5 times a power of ten).
    fn new(values: impl Iterator<Item = f64>, minimum: Option<f64>, maximum: Option<f64>) -> Axis {
        let (mut data_low, mut data_high) = (0.0_f64, 0.0_f64);
        for value in values.filter(|value| value.is_finite()) {
            data_low = data_low.min(value);
            data_high = data_high.max(value);
        }
        let low_given = minimum.filter(|value| value.is_finite());
        let high_given = maximum.filter(|value| value.is_finite());
        let mut low = low_given.unwrap_or(data_low);
        let mut high = high_given.unwrap_or(data_high);
        if high <= low {
            high = low + 1.0;
        }
        let step = round_step((high - low) / 5.0);
        if low_given.is_none() {
            low = (low / step).floor() * step;
        }
        if high_given.is_none() {
            high = (high / step).ceil() * step;
        }
        let mut ticks = Vec::new();
        let first = (low / step).ceil() * step;
        for index in 0..=20 {
            let tick = first + f64::from(index) * step;
            if tick > high + step * 1e-9 {
                break;
            }
            ticks.push(tick);
        }
        Axis {
            low,
            high,
            ticks,
            decimals: step_decimals(step),
        }
    }

    /// Where `value` falls between 0 (low end) and 1 (high end), clamped.
    fn fraction(&self, value: f64) -> f64 {
        if !value.is_finite() {
            return 0.0;
        }
        ((value - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
    }
}

/// The round step nearest above `raw`: 1, 2, 2.5 or 5 times a power of ten.
fn round_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let power = 10_f64.powf(raw.log10().floor());
    let scaled = raw / power;
    let factor = if scaled <= 1.0 {
        1.0
    } else if scaled <= 2.0 {
        2.0
    } else if scaled <= 2.5 {
        2.5
    } else if scaled <= 5.0 {
        5.0
    } else {
        10.0
    };
    factor * power
}

/// How many decimals a graduation of this step needs (0 for 1, 1 for 0.5, 2 for 0.25).
fn step_decimals(step: f64) -> u8 {
    for decimals in 0..6_u8 {
        let scaled = step * 10_f64.powi(i32::from(decimals));
        if (scaled - scaled.round()).abs() < 1e-6 {
            return decimals;
        }
    }
    6
}

/// An SVG being written: the root element, then shapes and text.
struct Svg {
    out: String,
}

impl Svg {
    fn new(height: f64, caption: &str) -> Svg {
        let caption = escape(&shorten(caption, 300));
        let mut out = String::with_capacity(8 * 1024);
        out.push_str(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
             width=\"{WIDTH}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{caption}\" \
             font-family=\"{FONT_FAMILY}\" font-size=\"{FONT_SIZE}\" fill=\"{TEXT_COLOUR}\">\
             <title>{caption}</title>"
        ));
        Svg { out }
    }

    fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, fill: &str) {
        self.out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>",
            width.max(0.0),
            height.max(0.0)
        ));
    }

    fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, width: f64, dashed: bool) {
        let dash = if dashed {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        self.out.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{stroke}\" \
             stroke-width=\"{width}\"{dash}/>",
            from.0, from.1, to.0, to.1
        ));
    }

    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, dashed: bool) {
        let dash = if dashed {
            " stroke-dasharray=\"7 5\""
        } else {
            ""
        };
        let points: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        self.out.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"2\" \
             stroke-linejoin=\"round\" stroke-linecap=\"round\"{dash}/>",
            points.join(" ")
        ));
    }

    fn circle(&mut self, centre: (f64, f64), radius: f64, fill: &str) {
        self.out.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius}\" fill=\"{fill}\"/>",
            centre.0, centre.1
        ));
    }

    /// Text at a point; `anchor` is `start`, `middle` or `end`; `rotate` in degrees.
    fn text(&mut self, at: (f64, f64), anchor: &str, style: TextStyle, text: &str) {
        let (size, fill, halo) = match style {
            TextStyle::Label => (FONT_SIZE, TEXT_COLOUR, false),
            TextStyle::Value => (SMALL_FONT_SIZE, TEXT_COLOUR, true),
            TextStyle::Tick => (SMALL_FONT_SIZE, MUTED_COLOUR, false),
            TextStyle::Threshold => (SMALL_FONT_SIZE, THRESHOLD_COLOUR, true),
        };
        // A white outline under the letters keeps a label readable over a line or a bar.
        let halo = if halo {
            " stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\""
        } else {
            ""
        };
        self.out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\" \
             fill=\"{fill}\"{halo}>{}</text>",
            at.0,
            at.1,
            escape(&french_spacing(&shorten(text, MAX_LABEL_CHARS)))
        ));
    }

    fn rotated_text(&mut self, at: (f64, f64), text: &str) {
        self.out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"{SMALL_FONT_SIZE}\" \
             fill=\"{MUTED_COLOUR}\" transform=\"rotate(-40 {:.1} {:.1})\">{}</text>",
            at.0,
            at.1,
            at.0,
            at.1,
            escape(&french_spacing(&shorten(text, 24)))
        ));
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

#[derive(Clone, Copy)]
enum TextStyle {
    /// A category's or a series' name.
    Label,
    /// A value written on the plot, beside its bar.
    Value,
    /// A graduation or a point's label on an axis.
    Tick,
    /// A reference line's label.
    Threshold,
}

/// The estimated width of a text at [`FONT_SIZE`].
fn text_width(text: &str) -> f64 {
    text.chars().count().min(MAX_LABEL_CHARS) as f64 * CHAR_WIDTH
}

/// A legend: a swatch and a name per entry, wrapped over as many lines as needed, from `top`.
/// Returns the height it took.
fn legend(svg: &mut Svg, top: f64, entries: &[(&str, &str, bool)]) -> f64 {
    let row_height = 18.0;
    let (mut x, mut y) = (0.0, top);
    for (name, colour, dashed) in entries {
        let width = 24.0 + text_width(&shorten(name, MAX_LABEL_CHARS)) + 18.0;
        if x > 0.0 && x + width > WIDTH {
            x = 0.0;
            y += row_height;
        }
        if *dashed {
            svg.line((x, y + 6.0), (x + 18.0, y + 6.0), colour, 2.5, true);
        } else {
            svg.rect(x, y + 1.0, 18.0, 10.0, colour);
        }
        svg.text((x + 24.0, y + 10.5), "start", TextStyle::Label, name);
        x += width;
    }
    if entries.is_empty() {
        0.0
    } else {
        y - top + row_height + 6.0
    }
}

/// Every `step`-th index of `count` labels, so that at most [`MAX_AXIS_LABELS`] are written.
fn label_step(count: usize) -> usize {
    count.div_ceil(MAX_AXIS_LABELS).max(1)
}

fn horizontal_bars(chart: &BarChart, caption: &str) -> String {
    let bars = &chart.bars[..chart.bars.len().min(MAX_BARS)];
    let axis = Axis::new(
        bars.iter()
            .map(|bar| bar.value)
            .chain(chart.threshold.iter().map(|line| line.value)),
        chart.minimum,
        chart.maximum,
    );
    let label_width = bars
        .iter()
        .map(|bar| text_width(&bar.label))
        .fold(60.0_f64, f64::max)
        .min(230.0);
    let (left, right) = (label_width + 12.0, WIDTH - 62.0);
    let row_height = 24.0;
    let top = if chart.threshold.is_some() { 22.0 } else { 6.0 };
    let plot_bottom = top + row_height * bars.len().max(1) as f64;
    let height = plot_bottom + 26.0;
    let x_of = |value: f64| left + axis.fraction(value) * (right - left);

    let mut svg = Svg::new(height, caption);
    for tick in &axis.ticks {
        let x = x_of(*tick);
        svg.line((x, top), (x, plot_bottom), GRID_COLOUR, 1.0, false);
        svg.text(
            (x, plot_bottom + 16.0),
            "middle",
            TextStyle::Tick,
            &format_number(*tick, axis.decimals),
        );
    }
    let baseline = x_of(0.0_f64.clamp(axis.low, axis.high));
    for (index, bar) in bars.iter().enumerate() {
        let y = top + row_height * index as f64;
        let end = x_of(bar.value);
        svg.rect(
            end.min(baseline),
            y + 5.0,
            (end - baseline).abs(),
            14.0,
            Colour::of_tone(bar.tone).hex(),
        );
        let max_chars = (label_width / CHAR_WIDTH) as usize;
        svg.text(
            (left - 8.0, y + 16.0),
            "end",
            TextStyle::Label,
            &shorten(&bar.label, max_chars),
        );
        svg.text(
            (end.max(baseline) + 5.0, y + 16.0),
            "start",
            TextStyle::Value,
            &format_quantity(bar.value, chart.decimals, &chart.unit),
        );
    }
    svg.line(
        (baseline, top),
        (baseline, plot_bottom),
        AXIS_COLOUR,
        1.0,
        false,
    );
    if let Some(threshold) = &chart.threshold {
        let x = x_of(threshold.value);
        svg.line(
            (x, top - 4.0),
            (x, plot_bottom),
            THRESHOLD_COLOUR,
            1.5,
            true,
        );
        let anchor = if x > right - 80.0 { "end" } else { "middle" };
        svg.text(
            (x, top - 8.0),
            anchor,
            TextStyle::Threshold,
            &threshold.label,
        );
    }
    svg.finish()
}

/// The graduations of a vertical value axis: grid lines and their labels on the left.
fn value_grid(svg: &mut Svg, axis: &Axis, left: f64, top: f64, bottom: f64) {
    for tick in &axis.ticks {
        let y = bottom - axis.fraction(*tick) * (bottom - top);
        svg.line((left, y), (WIDTH - 4.0, y), GRID_COLOUR, 1.0, false);
        svg.text(
            (left - 6.0, y + 4.0),
            "end",
            TextStyle::Tick,
            &format_number(*tick, axis.decimals),
        );
    }
}

/// A horizontal dashed reference line across the plot, its label at the left end of the
/// plot (`at_left`, for series over time, which grow towards the right) or at its right end.
fn threshold_line(
    svg: &mut Svg,
    axis: &Axis,
    threshold: &Threshold,
    plot: (f64, f64, f64),
    at_left: bool,
) {
    let (left, top, bottom) = plot;
    let y = bottom - axis.fraction(threshold.value) * (bottom - top);
    svg.line((left, y), (WIDTH - 4.0, y), THRESHOLD_COLOUR, 1.5, true);
    if at_left {
        svg.text(
            (left + 6.0, y - 5.0),
            "start",
            TextStyle::Threshold,
            &threshold.label,
        );
    } else {
        svg.text(
            (WIDTH - 6.0, y - 5.0),
            "end",
            TextStyle::Threshold,
            &threshold.label,
        );
    }
}

/// Labels under vertical slots: straight when they fit, slanted otherwise.
fn category_labels(svg: &mut Svg, labels: &[&str], left: f64, slot: f64, bottom: f64) {
    let slanted = labels.iter().any(|label| text_width(label) > slot - 4.0);
    let step = if slanted {
        1.max(label_step(labels.len() * 2) / 2)
    } else {
        1
    };
    for (index, label) in labels.iter().enumerate() {
        if index % step != 0 {
            continue;
        }
        let x = left + slot * (index as f64 + 0.5);
        if slanted {
            svg.rotated_text((x + 3.0, bottom + 14.0), label);
        } else {
            svg.text((x, bottom + 16.0), "middle", TextStyle::Tick, label);
        }
    }
}

/// The height taken under the plot by category labels.
fn category_labels_height(labels: &[&str], slot: f64) -> f64 {
    let longest = labels
        .iter()
        .map(|label| text_width(&shorten(label, 24)))
        .fold(0.0, f64::max);
    if labels.iter().any(|label| text_width(label) > slot - 4.0) {
        // A label slanted at 40° takes sin(40°) of its length downwards.
        20.0 + longest * 0.65
    } else {
        26.0
    }
}

fn vertical_bars(chart: &BarChart, caption: &str) -> String {
    let bars = &chart.bars[..chart.bars.len().min(MAX_BARS)];
    let axis = Axis::new(
        bars.iter()
            .map(|bar| bar.value)
            .chain(chart.threshold.iter().map(|line| line.value)),
        chart.minimum,
        chart.maximum,
    );
    let left = 48.0;
    let slot = (WIDTH - 4.0 - left) / bars.len().max(1) as f64;
    let labels: Vec<&str> = bars.iter().map(|bar| bar.label.as_str()).collect();
    let top = 18.0;
    let bottom = top + 200.0;
    let height = bottom + category_labels_height(&labels, slot);
    let y_of = |value: f64| bottom - axis.fraction(value) * (bottom - top);

    let mut svg = Svg::new(height, caption);
    value_grid(&mut svg, &axis, left, top, bottom);
    let baseline = y_of(0.0_f64.clamp(axis.low, axis.high));
    let bar_width = (slot * 0.62).min(48.0);
    for (index, bar) in bars.iter().enumerate() {
        let x = left + slot * (index as f64 + 0.5);
        let end = y_of(bar.value);
        svg.rect(
            x - bar_width / 2.0,
            end.min(baseline),
            bar_width,
            (end - baseline).abs(),
            Colour::of_tone(bar.tone).hex(),
        );
        if bars.len() <= 16 {
            svg.text(
                (x, end.min(baseline) - 5.0),
                "middle",
                TextStyle::Value,
                &format_quantity(bar.value, chart.decimals, &chart.unit),
            );
        }
    }
    svg.line(
        (left, baseline),
        (WIDTH - 4.0, baseline),
        AXIS_COLOUR,
        1.0,
        false,
    );
    category_labels(&mut svg, &labels, left, slot, bottom);
    if let Some(threshold) = &chart.threshold {
        threshold_line(&mut svg, &axis, threshold, (left, top, bottom), false);
    }
    svg.finish()
}

fn lines(chart: &LineChart, caption: &str) -> String {
    let points = chart.x_labels.len().min(MAX_POINTS);
    let series = &chart.series[..chart.series.len().min(MAX_SERIES)];
    let axis = Axis::new(
        series
            .iter()
            .flat_map(|series| series.values.iter().take(points).flatten().copied())
            .chain(chart.threshold.iter().map(|line| line.value)),
        chart.minimum,
        chart.maximum,
    );
    let decimals = axis.decimals.min(chart.decimals);
    let axis = Axis { decimals, ..axis };
    let names: Vec<(&str, &str, bool)> = series
        .iter()
        .map(|series| (series.name.as_str(), series.colour.hex(), series.dashed))
        .collect();

    // The legend is drawn first to know the height it takes; the plot goes under it.
    let mut legend_svg = Svg { out: String::new() };
    let legend_height = legend(&mut legend_svg, 0.0, &names);
    let left = 48.0;
    let right = WIDTH - 8.0;
    let top = legend_height + 14.0;
    let bottom = top + 190.0;
    let height = bottom + 26.0;
    let x_of = |index: usize| {
        if points <= 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * index as f64 / (points - 1) as f64
        }
    };
    let y_of = |value: f64| bottom - axis.fraction(value) * (bottom - top);

    let mut svg = Svg::new(height, caption);
    legend(&mut svg, 0.0, &names);
    value_grid(&mut svg, &axis, left, top, bottom);
    svg.line((left, bottom), (right, bottom), AXIS_COLOUR, 1.0, false);
    let step = label_step(points);
    for (index, label) in chart.x_labels.iter().take(points).enumerate() {
        if index % step == 0 {
            let x = x_of(index);
            svg.line((x, bottom), (x, bottom + 4.0), AXIS_COLOUR, 1.0, false);
            svg.text((x, bottom + 17.0), "middle", TextStyle::Tick, label);
        }
    }
    if let Some(threshold) = &chart.threshold {
        threshold_line(&mut svg, &axis, threshold, (left, top, bottom), true);
    }
    for series in series {
        // Each run of consecutive values is one polyline; a lone value is a dot.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let values = series
            .values
            .iter()
            .take(points)
            .map(|value| value.filter(|value| value.is_finite()));
        for (index, value) in values.chain(std::iter::once(None)).enumerate() {
            match value {
                Some(value) => run.push((x_of(index), y_of(value))),
                None => {
                    match run.len() {
                        0 => {}
                        1 => svg.circle(run[0], 2.5, series.colour.hex()),
                        _ => svg.polyline(&run, series.colour.hex(), series.dashed),
                    }
                    run.clear();
                }
            }
        }
    }
    svg.finish()
}

fn stacked(chart: &StackedBars, caption: &str) -> String {
    let categories = &chart.categories[..chart.categories.len().min(MAX_CATEGORIES)];
    let layers = &chart.layers[..chart.layers.len().min(MAX_SERIES)];
    let value = |layer: &Layer, index: usize| {
        layer
            .values
            .get(index)
            .copied()
            .filter(|value| value.is_finite() && *value > 0.0)
            .unwrap_or(0.0)
    };
    let totals: Vec<f64> = (0..categories.len())
        .map(|index| layers.iter().map(|layer| value(layer, index)).sum())
        .collect();
    let axis = Axis::new(totals.iter().copied(), Some(0.0), None);
    let names: Vec<(&str, &str, bool)> = layers
        .iter()
        .map(|layer| (layer.name.as_str(), layer.colour.hex(), false))
        .collect();

    let mut legend_svg = Svg { out: String::new() };
    let legend_height = legend(&mut legend_svg, 0.0, &names);
    let left = 48.0;
    let slot = (WIDTH - 4.0 - left) / categories.len().max(1) as f64;
    let labels: Vec<&str> = categories.iter().map(String::as_str).collect();
    let top = legend_height + 18.0;
    let bottom = top + 190.0;
    let height = bottom + category_labels_height(&labels, slot);
    let y_of = |value: f64| bottom - axis.fraction(value) * (bottom - top);

    let mut svg = Svg::new(height, caption);
    legend(&mut svg, 0.0, &names);
    value_grid(&mut svg, &axis, left, top, bottom);
    let bar_width = (slot * 0.62).min(48.0);
    for (index, total) in totals.iter().enumerate() {
        let x = left + slot * (index as f64 + 0.5) - bar_width / 2.0;
        let mut below = 0.0;
        for layer in layers {
            let amount = value(layer, index);
            if amount > 0.0 {
                let (low, high) = (y_of(below), y_of(below + amount));
                svg.rect(x, high, bar_width, low - high, layer.colour.hex());
            }
            below += amount;
        }
        if categories.len() <= 24 {
            svg.text(
                (x + bar_width / 2.0, y_of(*total) - 5.0),
                "middle",
                TextStyle::Value,
                &format_quantity(*total, chart.decimals, &chart.unit),
            );
        }
    }
    svg.line(
        (left, bottom),
        (WIDTH - 4.0, bottom),
        AXIS_COLOUR,
        1.0,
        false,
    );
    category_labels(&mut svg, &labels, left, slot, bottom);
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        let cases = [
            (0.3, 0.5),
            (1.0, 1.0),
            (1.1, 2.0),
            (2.2, 2.5),
            (3.0, 5.0),
            (7.0, 10.0),
            (130.0, 200.0),
        ];
        for (raw, step) in cases {
            assert!(
                (round_step(raw) - step).abs() < 1e-9,
                "{raw} gives {}",
                round_step(raw)
            );
        }
        assert_eq!(round_step(f64::NAN), 1.0);
        assert_eq!(round_step(0.0), 1.0);
        assert_eq!(step_decimals(0.25), 2);
        assert_eq!(step_decimals(5.0), 0);
        assert_eq!(step_decimals(0.5), 1);
    }

    #[test]
    fn an_axis_covers_its_values_with_round_ends() {
        let axis = Axis::new([12.0, 87.0].into_iter(), None, None);
        assert_eq!((axis.low, axis.high), (0.0, 100.0));
        assert_eq!(axis.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let axis = Axis::new([97.2, 99.9].into_iter(), Some(95.0), Some(100.0));
        assert_eq!((axis.low, axis.high), (95.0, 100.0));
        assert_eq!(axis.ticks.first(), Some(&95.0));
        assert_eq!(axis.fraction(50.0), 0.0);
        assert_eq!(axis.fraction(f64::NAN), 0.0);
        let axis = Axis::new([f64::NAN, f64::INFINITY].into_iter(), None, None);
        assert!(axis.high > axis.low);
        let axis = Axis::new([-30.0, 10.0].into_iter(), None, None);
        assert!(axis.low <= -30.0 && axis.high >= 10.0);
        assert!(axis.ticks.len() <= 21);
    }
}
