//! Debian control-file syntax (deb822): paragraphs of `Field: value` lines separated by blank
//! lines, continuation lines starting with a space or tab. Also fits Python's core metadata
//! (RFC 822 headers), which is parsed with [`headers`].

/// One paragraph: fields in order, names as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub fields: Vec<(String, String)>,
}

impl Paragraph {
    /// The first field called `name` (ASCII case-insensitive, as dpkg compares them), trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// Splits `text` into paragraphs. Lines that are neither fields nor continuations are ignored;
/// so are comment lines (`#`).
pub fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut cur = Paragraph::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.fields.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.fields.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !cur.fields.is_empty() {
        out.push(cur);
    }
    out
}

/// The header block of an RFC 822-style message: the fields before the first blank line.
pub fn headers(text: &str) -> Paragraph {
    let end = text
        .find("\n\n")
        .or_else(|| text.find("\r\n\r\n"))
        .unwrap_or(text.len());
    paragraphs(&text[..end])
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_continuations() {
        let p =
            paragraphs("Package: a\nDescription: x\n y\n .\n\n\n# c\nPackage: b\nnot a field\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].get("package"), Some("a"));
        assert_eq!(p[0].get("Description"), Some("x\ny\n."));
        assert_eq!(p[1].get("Package"), Some("b"));
        assert_eq!(
            headers("Name: n\nVersion: 1\n\nName: body\n").get("name"),
            Some("n")
        );
    }
}
