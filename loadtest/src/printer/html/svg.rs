//! A small writer of inline SVG: every text and attribute escaped, numbers
//! rounded to a tenth of a pixel, styles left to the page's CSS classes.

use std::fmt::Write;

/// Escapes text for HTML and SVG, in element content and in quoted
/// attribute values alike.
pub fn esc(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// How a text sits on its x.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn attribute(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A tenth of a pixel is finer than any screen.
fn px(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// What a mark stands for: a tooltip, and `data-*` attributes that name the
/// report's number it draws (so a test, or a reader of the source, can check
/// it against the JSON).
#[derive(Debug, Default)]
pub struct Mark<'a> {
    pub tooltip: Option<String>,
    pub data: Vec<(&'a str, String)>,
}

impl Mark<'_> {
    fn attributes(&self) -> String {
        let mut attributes = String::new();
        for (name, value) in &self.data {
            let _ = write!(attributes, " data-{name}=\"{}\"", esc(value));
        }
        attributes
    }

    fn close(&self, element: &str) -> String {
        match &self.tooltip {
            Some(tooltip) => format!("><title>{}</title></{element}>", esc(tooltip)),
            None => "/>".to_string(),
        }
    }
}

/// One `<svg>` being written.
pub struct Svg {
    body: String,
    width: f64,
    height: f64,
    id: String,
    title: String,
    description: String,
}

impl Svg {
    /// An image of `width` × `height` pixels (it scales down with the page),
    /// titled and described for screen readers.
    pub fn new(id: &str, width: f64, height: f64, title: &str, description: &str) -> Svg {
        Svg {
            body: String::new(),
            width,
            height,
            id: id.to_string(),
            title: title.to_string(),
            description: description.to_string(),
        }
    }

    pub fn text(&mut self, x: f64, y: f64, class: &str, anchor: Anchor, content: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" class=\"{}\" text-anchor=\"{}\">{}</text>",
            px(x),
            px(y),
            esc(class),
            anchor.attribute(),
            esc(content)
        );
    }

    /// Opens a `<g>` whose `data-*` attributes name what its marks belong
    /// to; [`Svg::close_group`] closes it.
    pub fn open_group(&mut self, class: &str, data: &[(&str, String)]) {
        let mark = Mark {
            tooltip: None,
            data: data.to_vec(),
        };
        let _ = writeln!(
            self.body,
            "<g class=\"{}\"{}>",
            esc(class),
            mark.attributes()
        );
    }

    pub fn close_group(&mut self) {
        self.body.push_str("</g>\n");
    }

    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), class: &str) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{}\"/>",
            px(x1),
            px(y1),
            px(x2),
            px(y2),
            esc(class)
        );
    }

    pub fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, class: &str, mark: &Mark) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}\"{}{}",
            px(x),
            px(y),
            px(width.max(0.0)),
            px(height.max(0.0)),
            esc(class),
            mark.attributes(),
            mark.close("rect")
        );
    }

    /// A marker of `shape` (`circle`, `square`, `triangle`, `diamond`)
    /// centred on (x, y), `size` pixels across.
    pub fn marker(
        &mut self,
        shape: Shape,
        (x, y): (f64, f64),
        size: f64,
        class: &str,
        mark: &Mark,
    ) {
        let r = size / 2.0;
        let (element, geometry) = match shape {
            Shape::Circle => (
                "circle",
                format!("cx=\"{}\" cy=\"{}\" r=\"{}\"", px(x), px(y), px(r)),
            ),
            Shape::Square => (
                "rect",
                format!(
                    "x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
                    px(x - r * 0.85),
                    px(y - r * 0.85),
                    px(size * 0.85),
                    px(size * 0.85)
                ),
            ),
            Shape::Triangle => (
                "polygon",
                format!(
                    "points=\"{},{} {},{} {},{}\"",
                    px(x),
                    px(y - r * 1.1),
                    px(x + r),
                    px(y + r * 0.8),
                    px(x - r),
                    px(y + r * 0.8)
                ),
            ),
            Shape::Diamond => (
                "polygon",
                format!(
                    "points=\"{},{} {},{} {},{} {},{}\"",
                    px(x),
                    px(y - r * 1.2),
                    px(x + r),
                    px(y),
                    px(x),
                    px(y + r * 1.2),
                    px(x - r),
                    px(y)
                ),
            ),
        };
        let _ = writeln!(
            self.body,
            "<{element} {geometry} class=\"{}\"{}{}",
            esc(class),
            mark.attributes(),
            mark.close(element)
        );
    }

    /// A closed shape through `points`.
    pub fn area(&mut self, points: &[(f64, f64)], class: &str, mark: &Mark) {
        let mut d = String::with_capacity(points.len() * 12);
        for (i, &(x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{},{}", if i == 0 { "M" } else { "L" }, px(x), px(y));
        }
        d.push('Z');
        let _ = writeln!(
            self.body,
            "<path d=\"{d}\" class=\"{}\"{}{}",
            esc(class),
            mark.attributes(),
            mark.close("path")
        );
    }

    pub fn finish(self) -> String {
        let id = esc(&self.id);
        format!(
            "<svg id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
             width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
             <title id=\"{id}-title\">{title}</title>\n<desc id=\"{id}-desc\">{description}</desc>\n\
             {body}</svg>\n",
            w = px(self.width),
            h = px(self.height),
            title = esc(&self.title),
            description = esc(&self.description),
            body = self.body
        )
    }
}

/// The marker shapes of the latency chart, one per percentile, so that they
/// read without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// The smallest of 1, 2, 2.5, 5 × 10^k that is at least `x` (and at least 1):
/// a round end for a linear axis.
pub fn nice_max(x: f64) -> f64 {
    if x <= 1.0 || !x.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= x * (1.0 - 1e-9) {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// The smallest of 1, 2, 5 × 10^k that is at least `x`: a round tick step.
pub fn nice_step(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * magnitude >= x * (1.0 - 1e-9) {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// A number for an axis or a label: no trailing zeros, at most `decimals`.
pub fn number(x: f64, decimals: usize) -> String {
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_that_could_open_markup_or_close_an_attribute_is_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("lock=redis · 70×"), "lock=redis · 70×");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(100.0), 100.0);
        assert_eq!(nice_max(137.0), 200.0);
        assert_eq!(nice_max(1600.0), 2000.0);
        assert_eq!(nice_max(2100.0), 2500.0);
        assert_eq!(nice_step(0.37), 0.5);
        assert_eq!(nice_step(3.2), 5.0);
        assert_eq!(nice_step(12.0), 20.0);
        assert_eq!(number(0.5, 2), "0.5");
        assert_eq!(number(2.0, 2), "2");
        assert_eq!(number(1448.04, 1), "1448");
    }

    #[test]
    fn an_svg_is_titled_for_screen_readers_and_its_marks_carry_their_numbers() {
        let mut svg = Svg::new("c", 100.0, 50.0, "A <chart>", "what it shows");
        svg.rect(
            1.04,
            2.0,
            10.0,
            5.56,
            "bar",
            &Mark {
                tooltip: Some("none: 5 \"units\"".into()),
                data: vec![("value", "5".into())],
            },
        );
        let svg = svg.finish();
        assert!(svg.starts_with("<svg id=\"c\" role=\"img\" aria-labelledby=\"c-title c-desc\""));
        assert!(svg.contains("<title id=\"c-title\">A &lt;chart&gt;</title>"));
        assert!(svg.contains(
            "<rect x=\"1\" y=\"2\" width=\"10\" height=\"5.6\" class=\"bar\" data-value=\"5\"><title>none: 5 &quot;units&quot;</title></rect>"
        ), "{svg}");
    }
}
