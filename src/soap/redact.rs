//! A SOAP body as the `trace` log may show it: [`Redacted`] prints the envelope with every
//! secret replaced by `***` — the text of `Password` elements (Download, Upload and
//! ScheduleDownload credentials) and the `Value` of a ParameterValueStruct whose `Name` is a
//! password, passphrase or key parameter (TR-181 marks them hidden; this module does not know
//! the schema, so it goes by the names TR-181 gives them). It writes nothing else differently,
//! and writes it straight to the log's formatter: a body of many megabytes is not copied to be
//! logged (issue 13 §3).

use std::fmt;

/// Names of parameters whose values are secrets (TR-181: Password, KeyPassphrase,
/// PreSharedKey, WEPKey, … — all of them hidden in the data model).
const SECRET_NAMES: [&str; 6] = [
    "Password",
    "Passphrase",
    "PreSharedKey",
    "WEPKey",
    "Secret",
    "PrivateKey",
];

/// The replacement text.
pub const MASK: &str = "***";

/// A SOAP body to log, secrets masked. Invalid UTF-8 is shown replaced.
pub struct Redacted<'a>(pub &'a [u8]);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Valid UTF-8 (what cwmpd encodes) is borrowed, not copied.
        redact_to(&String::from_utf8_lossy(self.0), f)
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// The local name of the element whose start tag begins at `tag` (`<cwmp:Name a="1">`), and
/// the index just past the tag's `>`; `None` for end tags, comments and broken tags.
fn start_tag(text: &str, tag: usize) -> Option<(&str, usize)> {
    let rest = text.get(tag + 1..)?;
    if rest.starts_with(['/', '!', '?']) {
        return None;
    }
    let end = rest.find('>')?;
    let inner = &rest[..end];
    if inner.ends_with('/') {
        return None;
    }
    let qname = inner.split([' ', '\t', '\r', '\n']).next()?;
    let local = qname.rsplit(':').next()?;
    Some((local, tag + 1 + end + 1))
}

/// Is a parameter (full path) one whose value is a secret?
fn secret_name(path: &str) -> bool {
    let last = path.trim().rsplit('.').next().unwrap_or("");
    SECRET_NAMES.iter().any(|s| last.contains(s))
}

/// The text with secret element texts masked.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = redact_to(text, &mut out);
    out
}

/// [`redact`], written to `out` piece by piece.
fn redact_to(text: &str, out: &mut dyn fmt::Write) -> fmt::Result {
    let mut copied = 0;
    let mut pos = 0;
    // The last <Name> text seen: the following <Value> belongs to it.
    let mut last_name: Option<&str> = None;
    while let Some(off) = text.get(pos..).and_then(|r| r.find('<')) {
        let tag = pos + off;
        let Some((local, body)) = start_tag(text, tag) else {
            pos = tag + 1;
            continue;
        };
        let close = text.get(body..).and_then(|r| r.find('<')).map(|c| body + c);
        let Some(close) = close else { break };
        let inner = &text[body..close];
        let mask = match local {
            "Name" => {
                last_name = Some(inner);
                false
            }
            "Value" => last_name.take().is_some_and(secret_name),
            "Password" => true,
            _ => false,
        };
        if mask && !inner.is_empty() {
            out.write_str(&text[copied..body])?;
            out.write_str(MASK)?;
            copied = close;
        }
        pos = body;
    }
    out.write_str(&text[copied..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secret_values_are_masked_and_nothing_else() {
        let body = "<cwmp:SetParameterValues><ParameterList>\
            <ParameterValueStruct><Name>Device.ManagementServer.Password</Name>\
            <Value xsi:type=\"xsd:string\">hunter2</Value></ParameterValueStruct>\
            <ParameterValueStruct><Name>Device.WiFi.AccessPoint.1.Security.KeyPassphrase</Name>\
            <Value>wifi-secret</Value></ParameterValueStruct>\
            <ParameterValueStruct><Name>Device.ManagementServer.Username</Name>\
            <Value>cpe</Value></ParameterValueStruct>\
            </ParameterList><ParameterKey>k</ParameterKey></cwmp:SetParameterValues>\
            <cwmp:Download><Username>u</Username><Password>file-pw</Password></cwmp:Download>";
        let r = Redacted(body.as_bytes()).to_string();
        for secret in ["hunter2", "wifi-secret", "file-pw"] {
            assert!(!r.contains(secret), "{secret} leaked: {r}");
        }
        assert_eq!(r.matches(MASK).count(), 3);
        for kept in [
            ">cpe</Value>",
            "<Username>u</Username>",
            "<ParameterKey>k</ParameterKey>",
            "Device.ManagementServer.Password</Name>",
        ] {
            assert!(r.contains(kept), "{kept} missing: {r}");
        }
        // Nothing but the secrets changed.
        let back = r
            .replacen(MASK, "hunter2", 1)
            .replacen(MASK, "wifi-secret", 1)
            .replacen(MASK, "file-pw", 1);
        assert_eq!(back, body);
    }

    #[test]
    fn empty_broken_and_odd_input_passes_through() {
        for text in [
            "",
            "no tags",
            "<Password/>",
            "<Password></Password>",
            "<Password>open",
            "<<<>>>",
            "<!-- <Password>x</Password> -->",
        ] {
            let r = redact(text);
            assert!(
                !r.contains(MASK) || text.contains("<!--"),
                "{text:?} → {r:?}"
            );
        }
        assert_eq!(
            redact("<Name>Device.X.Password</Name><Value/>"),
            "<Name>Device.X.Password</Name><Value/>"
        );
        assert_eq!(
            redact("<Password>\u{e9}t\u{e9}</Password>"),
            "<Password>***</Password>",
            "multi-byte text"
        );
        assert_eq!(Redacted(&[0xff, b'<', b'a']).to_string(), "\u{fffd}<a");
    }
}
