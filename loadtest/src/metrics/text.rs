//! A reader of the Prometheus text exposition format (version 0.0.4), as far
//! as the generator needs it: every sample line, its labels and value, and
//! the `# TYPE` of each family. Timestamps are read and dropped; `# HELP` and
//! other comments are skipped.
//!
//! ```text
//! # TYPE flashsale_lock_wait_seconds histogram
//! flashsale_lock_wait_seconds_bucket{strategy="redis",le="0.005"} 12
//! flashsale_lock_wait_seconds_count{strategy="redis"} 40
//! ```

use std::collections::HashMap;
use std::fmt;

/// One sample line: `name{label="value",...} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of one label, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A whole `/metrics` page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    /// `# TYPE` lines: family name to `counter`, `gauge`, `histogram`, ...
    pub types: HashMap<String, String>,
}

impl Exposition {
    /// The samples of one series name (a histogram's `_bucket`, `_sum` and
    /// `_count` are three names).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

/// Where and why a page is not Prometheus text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a page of the text format.
pub fn parse(text: &str) -> Result<Exposition, ParseError> {
    let mut exposition = Exposition::default();
    for (i, line) in text.lines().enumerate() {
        let error = |message: String| ParseError {
            line: i + 1,
            message,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if words.next() == Some("TYPE") {
                match (words.next(), words.next()) {
                    (Some(name), Some(kind)) => {
                        exposition.types.insert(name.to_string(), kind.to_string());
                    }
                    _ => {
                        return Err(error(format!(
                            "a TYPE line without a name and a type: `{line}`"
                        )));
                    }
                }
            }
            continue;
        }
        exposition.samples.push(sample(line).map_err(error)?);
    }
    Ok(exposition)
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("no metric name at the start of `{line}`"));
    }
    let mut rest = line[name_end..].trim_start();
    let mut labels = Vec::new();
    if let Some(inside) = rest.strip_prefix('{') {
        let (parsed, after) = label_set(inside).map_err(|e| format!("{e} in `{line}`"))?;
        labels = parsed;
        rest = after;
    }
    let mut fields = rest.split_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| format!("no value in `{line}`"))?;
    let value = number(value).ok_or_else(|| format!("`{value}` is not a number in `{line}`"))?;
    if let Some(timestamp) = fields.next()
        && timestamp.parse::<i64>().is_err()
    {
        return Err(format!("`{timestamp}` is not a timestamp in `{line}`"));
    }
    if fields.next().is_some() {
        return Err(format!("more than a value and a timestamp in `{line}`"));
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// `a="x",b="y\"z"}` and what follows the closing brace.
#[allow(clippy::type_complexity)]
fn label_set(mut input: &str) -> Result<(Vec<(String, String)>, &str), String> {
    let mut labels = Vec::new();
    loop {
        input = input.trim_start();
        if let Some(after) = input.strip_prefix('}') {
            return Ok((labels, after));
        }
        let name_end = input
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or("an unclosed label set")?;
        let name = &input[..name_end];
        if name.is_empty() {
            return Err("a label without a name".to_string());
        }
        input = input[name_end..].trim_start();
        input = input
            .strip_prefix('=')
            .ok_or_else(|| format!("no `=` after label {name}"))?
            .trim_start();
        input = input
            .strip_prefix('"')
            .ok_or_else(|| format!("label {name}'s value is not quoted"))?;
        let mut value = String::new();
        let mut chars = input.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(format!("label {name}'s value is not closed")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    other => {
                        return Err(format!(
                            "label {name} has an unknown escape `\\{}`",
                            other.map_or(String::new(), |(_, c)| c.to_string())
                        ));
                    }
                },
                Some((_, c)) => value.push(c),
            }
        };
        labels.push((name.to_string(), value));
        input = input[end + 1..].trim_start();
        if let Some(after) = input.strip_prefix(',') {
            input = after;
        } else if !input.starts_with('}') {
            return Err(format!("no `,` or `}}` after label {name}"));
        }
    }
}

/// A sample value or an `le` bound: a float, `+Inf`, `-Inf` or `NaN`.
pub fn number(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            text.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_with_their_labels_and_values() {
        let page = parse(concat!(
            "# HELP flashsale_purchases_total Purchases by outcome.\n",
            "# TYPE flashsale_purchases_total counter\n",
            "flashsale_purchases_total{strategy=\"redis\",outcome=\"sold\"} 100\n",
            "\n",
            "flashsale_purchases_in_flight{strategy=\"redis\"} 0 1700000000000\n",
            "process_start_time_seconds 1.7e9\n",
            "x_bucket{le=\"+Inf\",} 3\n",
        ))
        .unwrap();

        assert_eq!(page.samples.len(), 4);
        let sold = &page.samples[0];
        assert_eq!(sold.name, "flashsale_purchases_total");
        assert_eq!(sold.label("strategy"), Some("redis"));
        assert_eq!(sold.label("outcome"), Some("sold"));
        assert_eq!(sold.value, 100.0);
        assert_eq!(page.samples[1].value, 0.0);
        assert_eq!(page.samples[2].labels, []);
        assert_eq!(page.samples[2].value, 1.7e9);
        assert_eq!(page.samples[3].label("le"), Some("+Inf"));
        assert_eq!(page.types["flashsale_purchases_total"], "counter");
    }

    #[test]
    fn label_values_keep_their_escaped_quotes_backslashes_and_newlines() {
        let page = parse(r#"m{a="say \"hi\"",b="C:\\dir",c="two\nlines", d = "{,}"} 1"#).unwrap();

        let sample = &page.samples[0];
        assert_eq!(sample.label("a"), Some(r#"say "hi""#));
        assert_eq!(sample.label("b"), Some(r"C:\dir"));
        assert_eq!(sample.label("c"), Some("two\nlines"));
        assert_eq!(sample.label("d"), Some("{,}"));
    }

    #[test]
    fn special_values_are_infinities_and_nan() {
        assert_eq!(number("+Inf"), Some(f64::INFINITY));
        assert_eq!(number("-Inf"), Some(f64::NEG_INFINITY));
        assert!(number("NaN").unwrap().is_nan());
        assert_eq!(number("0.005"), Some(0.005));
        assert_eq!(number("inf"), None, "only the spellings of the format");
        assert_eq!(number("12abc"), None);
    }

    #[test]
    fn a_page_that_is_not_prometheus_text_says_where() {
        for (page, line, says) in [
            ("<html><body>Not Found</body></html>", 1, "no metric name"),
            ("ok 1\nm{a=\"x\" 1", 2, "no `,` or `}` after label a"),
            ("m{a=x} 1", 1, "not quoted"),
            ("m{a=\"x} 1", 1, "not closed"),
            ("m one", 1, "`one` is not a number"),
            ("m", 1, "no value"),
            ("m 1 2 3", 1, "more than a value"),
            ("m{a=\"\\t\"} 1", 1, "unknown escape"),
            ("# TYPE m", 1, "TYPE line"),
        ] {
            let error = parse(page).unwrap_err();
            assert_eq!(error.line, line, "{page}: {error}");
            assert!(error.message.contains(says), "{page}: {error}");
        }
    }
}
