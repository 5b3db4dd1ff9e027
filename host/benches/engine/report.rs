//! The benchmark's output: markdown printed as it is measured, collected for `BENCHMARKS.md` (between
//! its `latest-run` markers), and the latency-against-concurrency chart as SVG.

use std::fmt::Write as _;
use std::path::Path;

use crate::load::Load;

#[derive(Default)]
pub struct Report {
    text: String,
    targets: Vec<(String, String, bool)>,
}

impl Report {
    /// Prints a line and keeps it for the file.
    pub fn line(&mut self, line: impl AsRef<str>) {
        println!("{}", line.as_ref());
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    /// Records a target, what was measured against it, and whether it is met.
    pub fn target(&mut self, target: impl Into<String>, measured: impl Into<String>, met: bool) {
        self.targets.push((target.into(), measured.into(), met));
    }

    pub fn verdict(met: bool) -> &'static str {
        if met { "met" } else { "**NOT met**" }
    }

    /// The closing summary of every target.
    pub fn summary(&mut self) {
        self.line("");
        self.line("### Targets");
        self.line("");
        self.line("| target | measured | status |");
        self.line("|---|---|---|");
        for (target, measured, met) in self.targets.clone() {
            self.line(format!("| {target} | {measured} | {} |", Self::verdict(met)));
        }
    }

    /// Replaces the part of `BENCHMARKS.md` between `<!-- latest-run -->` and `<!-- /latest-run -->`.
    pub fn write_into(&self, file: &Path) -> std::io::Result<bool> {
        let Ok(current) = std::fs::read_to_string(file) else { return Ok(false) };
        let (begin, end) = ("<!-- latest-run -->", "<!-- /latest-run -->");
        let (Some(b), Some(e)) = (current.find(begin), current.find(end)) else { return Ok(false) };
        let updated = format!("{}{begin}\n{}{}", &current[..b], self.text, &current[e..]);
        std::fs::write(file, updated)?;
        Ok(true)
    }
}

/// One line of the chart: a name, a colour, a dash pattern, and (callers, milliseconds) points.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub dashed: bool,
    pub points: Vec<(usize, f64)>,
}

impl<'a> Series<'a> {
    pub fn median(name: &'a str, colour: &'a str, loads: &[Load]) -> Self {
        Series {
            name,
            colour,
            dashed: false,
            points: loads.iter().map(|l| (l.callers, l.median.as_secs_f64() * 1e3)).collect(),
        }
    }

    pub fn p95(name: &'a str, colour: &'a str, loads: &[Load]) -> Self {
        Series {
            name,
            colour,
            dashed: true,
            points: loads.iter().map(|l| (l.callers, l.p95.as_secs_f64() * 1e3)).collect(),
        }
    }
}

/// A line chart of latency (ms, logarithmic) against concurrent callers (logarithmic), as SVG.
pub fn latency_chart(title: &str, series: &[Series]) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 420.0, 70.0, 200.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let all: Vec<(usize, f64)> = series.iter().flat_map(|s| s.points.iter().copied()).collect();
    let max_callers = all.iter().map(|p| p.0).max().unwrap_or(64).max(2) as f64;
    let ms = |f: fn(f64, f64) -> f64, start: f64| all.iter().map(|p| p.1.max(0.01)).fold(start, f);
    let (lo, hi) = (10f64.powf(ms(f64::min, f64::MAX).log10().floor()), 10f64.powf(ms(f64::max, 0.0).log10().ceil()));
    let x = |callers: usize| left + pw * (callers as f64).log2() / max_callers.log2();
    let y = |v: f64| top + ph * (1.0 - (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">{title}</text>
"#,
        left + pw / 2.0
    );
    let mut tick = lo;
    while tick <= hi * 1.001 {
        let ty = y(tick);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{ty:.1}" y2="{ty:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{tick} ms</text>"##,
            left + pw,
            left - 6.0,
            ty + 4.0
        );
        tick *= 10.0;
    }
    let mut callers = 1;
    while callers as f64 <= max_callers {
        let tx = x(callers);
        let _ = writeln!(
            svg,
            r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="{top}" y2="{}" stroke="#eee"/><text x="{tx:.1}" y="{}" text-anchor="middle">{callers}</text>"##,
            top + ph,
            top + ph + 16.0
        );
        callers *= 2;
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">concurrent callers</text>"#,
        left + pw / 2.0,
        h - 10.0
    );
    let _ = writeln!(svg, r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##);
    for (i, s) in series.iter().enumerate() {
        let dash = if s.dashed { r#" stroke-dasharray="6 4""# } else { "" };
        let points: Vec<String> = s.points.iter().map(|&(c, v)| format!("{:.1},{:.1}", x(c), y(v))).collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
            points.join(" "),
            s.colour
        );
        for &(c, v) in &s.points {
            let _ = writeln!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, x(c), y(v), s.colour);
        }
        let ly = top + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            left + pw + 12.0,
            left + pw + 36.0,
            s.colour,
            left + pw + 42.0,
            ly + 4.0,
            s.name
        );
    }
    svg.push_str("</svg>\n");
    svg
}
