//! Line numbers for error messages: where a byte offset or a TOML parse error lies in a text.

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The 1-based line of a TOML error, 0 when the error has no position.
pub fn toml_error_line(text: &str, e: &toml::de::Error) -> usize {
    e.span().map(|s| line_of(text, s.start)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_of_offsets_and_errors() {
        assert_eq!(super::line_of("a\nb\nc", 0), 1);
        assert_eq!(super::line_of("a\nb\nc", 2), 2);
        assert_eq!(super::line_of("a\nb\nc", 99), 3);
        let text = "a = 1\nb = 2\nc = = 3\n";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        assert_eq!(super::toml_error_line(text, &e), 3);
    }
}
