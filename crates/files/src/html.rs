//! Markup and script attachments: HTML smuggling (a payload assembled in the browser from Blob/atob and saved
//! through a download), credential forms, redirects, SVG with script, and the URLs they reference; DDE formulas in
//! CSV/SYLK text.

use crate::report::{ObservationKind, UrlSource};
use crate::types::Format;
use crate::walk::Walker;

/// URLs written in text (`http://`, `https://`, `ftp://`), cut at quotes, spaces and brackets.
pub fn urls_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    for scheme in ["http://", "https://", "ftp://"] {
        for (at, _) in lower.match_indices(scheme).take(1000) {
            let url: String = text[at..]
                .chars()
                .take_while(|c| {
                    !c.is_whitespace()
                        && !matches!(c, '"' | '\'' | '<' | '>' | ')' | '`' | '\\' | '\0')
                })
                .take(2048)
                .collect();
            if url.len() > scheme.len() && !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// Values of `name="…"` attributes (any quote style) in lower-cased markup, with their original spelling.
fn attribute_values<'a>(text: &'a str, lower: &str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let needle = format!("{name}=");
    for (at, _) in lower.match_indices(&needle).take(2000) {
        let start = at + needle.len();
        let rest = &text[start..];
        let (value, _) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &rest[1..];
                (body.split(q).next().unwrap_or(""), ())
            }
            _ => (
                rest.split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
                (),
            ),
        };
        out.push(value);
    }
    out
}

pub(crate) fn analyse(
    w: &mut Walker<'_>,
    path: &[String],
    data: &[u8],
    depth: usize,
    format: Format,
) {
    let data = &data[..data.len().min(w.options.limits.max_scan_bytes)];
    let text = decode_text(data);
    let lower = text.to_ascii_lowercase();
    if format == Format::Text {
        if text.starts_with("ID;") {
            // SYLK: Excel 4.0 macro formulas in E (expression) fields.
            let calls = ["EXEC(", "CALL(", "REGISTER(", "RUN(", "HALT("];
            if lower.contains(";e") && calls.iter().any(|c| text.contains(c)) {
                w.observe(
                    ObservationKind::XlmMacro,
                    path,
                    depth,
                    "SYLK file with Excel 4.0 macro formulas",
                );
            }
        }
        csv_dde(w, path, depth, &text);
        return;
    }
    if format == Format::Xml
        && let Some(at) = lower.find("formula=\"=")
        && lower[at..]
            .split('"')
            .nth(1)
            .is_some_and(|f| f.contains('|') && f.contains('!'))
    {
        w.observe(
            ObservationKind::Dde,
            path,
            depth,
            "DDE formula in a spreadsheet XML",
        );
    }
    let has = |s: &str| lower.contains(s);
    if matches!(format, Format::Html | Format::Svg | Format::Script) {
        let builds_blob =
            has("new blob") || has("atob(") || has("uint8array") || has("fromcharcode");
        let saves = has("mssaveoropenblob")
            || has("mssaveblob")
            || has(".download")
            || has("createobjecturl")
            || has("download=");
        if builds_blob && saves {
            let mut signs: Vec<&str> = [
                "new blob",
                "atob(",
                "mssaveoropenblob",
                "createobjecturl",
                ".download",
            ]
            .into_iter()
            .filter(|s| has(s))
            .collect();
            signs.truncate(5);
            w.observe(
                ObservationKind::HtmlSmuggling,
                path,
                depth,
                format!("builds a file in the browser: {}", signs.join(", ")),
            );
        }
    }
    if matches!(format, Format::Html | Format::Svg) {
        if has("type=\"password\"") || has("type='password'") || has("type=password") {
            let actions: Vec<&str> = attribute_values(&text, &lower, "action")
                .into_iter()
                .take(3)
                .collect();
            w.observe(
                ObservationKind::HtmlCredentialForm,
                path,
                depth,
                if actions.is_empty() {
                    "password field in an attached page".to_string()
                } else {
                    format!("password field posting to {}", actions.join(", "))
                },
            );
        }
        if has("http-equiv=\"refresh\"")
            || has("http-equiv='refresh'")
            || has("http-equiv=refresh")
            || has("window.location")
            || has("location.href")
            || has("location.replace(")
        {
            w.observe(
                ObservationKind::HtmlRedirect,
                path,
                depth,
                "redirects the browser (meta refresh or script)",
            );
        }
        for attr in ["href", "src", "action"] {
            for v in attribute_values(&text, &lower, attr) {
                if v.contains("://")
                    || v.to_ascii_lowercase().starts_with("data:")
                    || v.to_ascii_lowercase().starts_with("javascript:")
                {
                    w.url(v, path, UrlSource::Html);
                }
            }
        }
    }
    if format == Format::Svg
        && (has("<script") || has(" onload=") || has("javascript:") || has("<foreignobject"))
    {
        w.observe(
            ObservationKind::SvgScript,
            path,
            depth,
            "SVG image with script or embedded HTML",
        );
    }
    for url in urls_in_text(&text).into_iter().take(200) {
        w.url(
            &url,
            path,
            if format == Format::Script {
                UrlSource::Code
            } else {
                UrlSource::Html
            },
        );
    }
}

/// Text as UTF-8 (lossy), or UTF-16 when it carries a BOM.
fn decode_text(data: &[u8]) -> String {
    if data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]) {
        let (s, _, _) = if data[0] == 0xFF {
            encoding_rs::UTF_16LE.decode(data)
        } else {
            encoding_rs::UTF_16BE.decode(data)
        };
        return s.into_owned();
    }
    String::from_utf8_lossy(data).into_owned()
}

/// DDE formulas in CSV/SYLK text: `=cmd|' /c calc'!A0`.
fn csv_dde(w: &mut Walker<'_>, path: &[String], depth: usize, text: &str) {
    for line in text.lines().take(100_000) {
        for cell in line.split([',', ';', '\t']) {
            let cell = cell.trim().trim_matches('"');
            if cell.starts_with(['=', '+', '-', '@']) && cell.contains('|') && cell.contains('!') {
                w.observe(
                    ObservationKind::Dde,
                    path,
                    depth,
                    format!(
                        "DDE formula {:?}",
                        cell.chars().take(80).collect::<String>()
                    ),
                );
                return;
            }
        }
    }
}
