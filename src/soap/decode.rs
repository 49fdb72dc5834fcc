//! Decoding ACS messages straight from the XML event stream ([`xml::Reader`]): nothing is
//! kept but the typed result, so a message's memory follows what it says, not how many
//! elements it has. Envelope problems are errors; an RPC with bad arguments decodes to
//! `Decoded::invalid` so the session can still answer with a fault carrying the right ID
//! (TR-069 A.5: 9003 Invalid arguments). No argument is read leniently: a value that does not
//! parse, or is longer than its type allows, is an invalid argument, never a default.
//!
//! CWMP argument elements are matched by local name in any namespace (they are unqualified,
//! but some ACSs qualify them), in any order; the first of a name counts, unknown ones are
//! passed over.

use super::xml::{Reader, Start};
use super::*;

/// Why an RPC could not be decoded: the document (an envelope error), or its arguments.
enum Bad {
    Doc(DecodeError),
    Arg(DecodeError),
}

impl From<DecodeError> for Bad {
    fn from(e: DecodeError) -> Bad {
        Bad::Doc(e)
    }
}

type R<T> = Result<T, Bad>;

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// Longest free-text string argument (TR-069 A.3: string(256): URLs, user names, file names).
const MAX_STRING: usize = 256;
/// Longest FileType, WindowMode, method name (string(64)).
const MAX_SHORT: usize = 64;

/// The scalar arguments of one struct element: the text of the first child of each name
/// asked for, and the errors for them.
struct Fields {
    rpc: &'static str,
    got: Vec<(&'static str, String)>,
}

/// Reads the element open now as a struct: the children named in `scalars` are kept as text
/// (the first of each name), `other` may take any other child (true when it read it), the
/// rest are skipped.
fn fields(
    r: &mut Reader,
    rpc: &'static str,
    scalars: &[&'static str],
    mut other: impl FnMut(&mut Reader, &Start) -> R<bool>,
) -> R<Fields> {
    let mut f = Fields {
        rpc,
        got: Vec::new(),
    };
    while let Some(s) = r.child()? {
        let wanted = scalars.iter().find(|n| **n == s.name);
        match wanted {
            Some(n) if !f.got.iter().any(|(g, _)| g == n) => {
                let t = r.text()?;
                f.got.push((*n, t));
            }
            Some(_) => r.skip()?,
            None => {
                if !other(r, &s)? {
                    r.skip()?;
                }
            }
        }
    }
    Ok(f)
}

/// A struct with scalar arguments only.
fn scalars(r: &mut Reader, rpc: &'static str, names: &[&'static str]) -> R<Fields> {
    fields(r, rpc, names, |_, _| Ok(false))
}

fn missing(rpc: &str, field: &'static str) -> Bad {
    Bad::Arg(DecodeError::Missing {
        rpc: rpc.to_string(),
        field,
    })
}

fn invalid(rpc: &str, field: &'static str) -> Bad {
    Bad::Arg(DecodeError::Invalid {
        rpc: rpc.to_string(),
        field,
    })
}

impl Fields {
    fn get(&self, field: &'static str) -> Option<&str> {
        self.got
            .iter()
            .find(|(n, _)| *n == field)
            .map(|(_, t)| t.as_str())
    }

    fn text(&self, field: &'static str) -> R<&str> {
        self.get(field).ok_or_else(|| missing(self.rpc, field))
    }

    /// A required string of at most `max` characters.
    fn text_max(&self, field: &'static str, max: usize) -> R<String> {
        let t = self.text(field)?;
        if t.chars().count() > max {
            return Err(invalid(self.rpc, field));
        }
        Ok(t.to_string())
    }

    /// An optional string of at most `max` characters ("" when absent).
    fn opt_text(&self, field: &'static str, max: usize) -> R<String> {
        match self.get(field) {
            None => Ok(String::new()),
            Some(_) => self.text_max(field, max),
        }
    }

    fn number<T: std::str::FromStr>(&self, field: &'static str) -> R<T> {
        self.text(field)?
            .trim()
            .parse()
            .map_err(|_| invalid(self.rpc, field))
    }

    fn uint(&self, field: &'static str) -> R<u32> {
        self.number(field)
    }

    /// An optional unsigned int: 0 when absent or empty.
    fn opt_uint(&self, field: &'static str) -> R<u32> {
        match self.get(field) {
            None => Ok(0),
            Some(t) if t.trim().is_empty() => Ok(0),
            Some(_) => self.uint(field),
        }
    }

    fn boolean(&self, field: &'static str) -> R<bool> {
        parse_bool(self.text(field)?).ok_or_else(|| invalid(self.rpc, field))
    }
}

/// Reads the element open now as an array: each child is passed to `item`; more than
/// [`MAX_LIST`] is an invalid argument.
fn array<T>(r: &mut Reader, mut item: impl FnMut(&mut Reader, &Start) -> R<T>) -> R<Vec<T>> {
    let mut out = Vec::new();
    while let Some(s) = r.child()? {
        if out.len() >= MAX_LIST {
            return Err(Bad::Arg(DecodeError::Limit("list length")));
        }
        out.push(item(r, &s)?);
    }
    Ok(out)
}

/// An array of strings of at most `max_len` characters each (trimmed).
fn strings(
    r: &mut Reader,
    rpc: &'static str,
    field: &'static str,
    max_len: usize,
) -> R<Vec<String>> {
    array(r, |r, _| {
        let t = r.text()?;
        if t.chars().count() > max_len {
            return Err(invalid(rpc, field));
        }
        Ok(t.trim().to_string())
    })
}

/// An RPC whose arguments are one required array of strings.
fn string_list(
    r: &mut Reader,
    rpc: &'static str,
    field: &'static str,
    max_len: usize,
) -> R<Vec<String>> {
    let mut list = None;
    fields(r, rpc, &[], |r, s| {
        if s.name == field && list.is_none() {
            list = Some(strings(r, rpc, field, max_len)?);
            return Ok(true);
        }
        Ok(false)
    })?;
    list.ok_or_else(|| missing(rpc, field))
}

const TRANSFER_FIELDS: [&str; 10] = [
    "CommandKey",
    "FileType",
    "URL",
    "Username",
    "Password",
    "FileSize",
    "TargetFileName",
    "DelaySeconds",
    "SuccessURL",
    "FailureURL",
];

fn transfer(f: &Fields, with_size: bool) -> R<Transfer> {
    Ok(Transfer {
        command_key: f.text_max("CommandKey", MAX_KEY)?,
        file_type: f.text_max("FileType", MAX_SHORT)?,
        url: f.text_max("URL", MAX_STRING)?,
        username: f.opt_text("Username", MAX_STRING)?,
        password: f.opt_text("Password", MAX_STRING)?,
        file_size: if with_size {
            f.opt_uint("FileSize")?
        } else {
            0
        },
        target_file_name: f.opt_text("TargetFileName", MAX_STRING)?,
        delay_seconds: f.opt_uint("DelaySeconds")?,
        success_url: f.opt_text("SuccessURL", MAX_STRING)?,
        failure_url: f.opt_text("FailureURL", MAX_STRING)?,
    })
}

/// One ParameterValueStruct: Name, and Value with its xsi:type.
fn parameter_value(r: &mut Reader, rpc: &'static str) -> R<ParameterValue> {
    let mut value: Option<(String, String)> = None;
    let f = fields(r, rpc, &["Name"], |r, s| {
        if s.name == "Value" && value.is_none() {
            let ty = s
                .attr("type")
                .map(|t| t.rsplit(':').next().unwrap_or(t).to_string())
                .unwrap_or_default();
            value = Some((r.text()?, ty));
            return Ok(true);
        }
        Ok(false)
    })?;
    let (value, xsd_type) = value.ok_or_else(|| missing(rpc, "Value"))?;
    Ok(ParameterValue {
        name: f.text_max("Name", MAX_NAME)?.trim().to_string(),
        value,
        xsd_type,
    })
}

/// One SetParameterAttributesStruct.
fn parameter_attribute(r: &mut Reader, rpc: &'static str) -> R<SetParameterAttribute> {
    let mut access_list = None;
    let f = fields(
        r,
        rpc,
        &[
            "Name",
            "NotificationChange",
            "Notification",
            "AccessListChange",
        ],
        |r, s| {
            if s.name == "AccessList" && access_list.is_none() {
                access_list = Some(strings(r, rpc, "AccessList", MAX_SHORT)?);
                return Ok(true);
            }
            Ok(false)
        },
    )?;
    let notification_change = f.boolean("NotificationChange")?;
    // TR-069 A.3.2.4: 0 off, 1 passive, 2 active (3–6 in later amendments); anything that is
    // not a number is an invalid argument, not "off".
    let notification: u32 = f.uint("Notification")?;
    Ok(SetParameterAttribute {
        name: f.text_max("Name", MAX_NAME)?.trim().to_string(),
        notification_change,
        notification: u8::try_from(notification).map_err(|_| invalid(rpc, "Notification"))?,
        access_list_change: f.boolean("AccessListChange")?,
        access_list: access_list.unwrap_or_default(),
    })
}

/// One TimeWindowStruct of ScheduleDownload.
fn time_window(r: &mut Reader, rpc: &'static str) -> R<TimeWindow> {
    let f = scalars(
        r,
        rpc,
        &[
            "WindowStart",
            "WindowEnd",
            "WindowMode",
            "UserMessage",
            "MaxRetries",
        ],
    )?;
    Ok(TimeWindow {
        window_start: f.uint("WindowStart")?,
        window_end: f.uint("WindowEnd")?,
        window_mode: f.text_max("WindowMode", MAX_SHORT)?,
        user_message: f.opt_text("UserMessage", MAX_STRING)?,
        max_retries: f.number("MaxRetries")?,
    })
}

/// The RPC element open now, named `name` (a CWMP method name).
fn rpc(r: &mut Reader, name: &str) -> R<AcsMessage> {
    Ok(match name {
        "GetRPCMethods" => {
            r.skip()?;
            AcsMessage::GetRPCMethods
        }
        "GetParameterValues" => AcsMessage::GetParameterValues {
            names: string_list(r, "GetParameterValues", "ParameterNames", MAX_NAME)?,
        },
        "SetParameterValues" => {
            const RPC: &str = "SetParameterValues";
            let mut list = None;
            let f = fields(r, RPC, &["ParameterKey"], |r, s| {
                if s.name == "ParameterList" && list.is_none() {
                    list = Some(array(r, |r, _| parameter_value(r, RPC))?);
                    return Ok(true);
                }
                Ok(false)
            })?;
            AcsMessage::SetParameterValues {
                list: list.ok_or_else(|| missing(RPC, "ParameterList"))?,
                parameter_key: f.text_max("ParameterKey", MAX_KEY)?,
            }
        }
        "GetParameterNames" => {
            let f = scalars(r, "GetParameterNames", &["ParameterPath", "NextLevel"])?;
            AcsMessage::GetParameterNames {
                path: f.text_max("ParameterPath", MAX_NAME)?.trim().to_string(),
                next_level: f.boolean("NextLevel")?,
            }
        }
        "GetParameterAttributes" => AcsMessage::GetParameterAttributes {
            names: string_list(r, "GetParameterAttributes", "ParameterNames", MAX_NAME)?,
        },
        "SetParameterAttributes" => {
            const RPC: &str = "SetParameterAttributes";
            let mut list = None;
            fields(r, RPC, &[], |r, s| {
                if s.name == "ParameterList" && list.is_none() {
                    list = Some(array(r, |r, _| parameter_attribute(r, RPC))?);
                    return Ok(true);
                }
                Ok(false)
            })?;
            AcsMessage::SetParameterAttributes {
                list: list.ok_or_else(|| missing(RPC, "ParameterList"))?,
            }
        }
        "AddObject" | "DeleteObject" => {
            let rpc = if name == "AddObject" {
                "AddObject"
            } else {
                "DeleteObject"
            };
            let f = scalars(r, rpc, &["ObjectName", "ParameterKey"])?;
            let object_name = f.text_max("ObjectName", MAX_NAME)?.trim().to_string();
            let parameter_key = f.text_max("ParameterKey", MAX_KEY)?;
            if rpc == "AddObject" {
                AcsMessage::AddObject {
                    object_name,
                    parameter_key,
                }
            } else {
                AcsMessage::DeleteObject {
                    object_name,
                    parameter_key,
                }
            }
        }
        "Reboot" => AcsMessage::Reboot {
            command_key: scalars(r, "Reboot", &["CommandKey"])?.text_max("CommandKey", MAX_KEY)?,
        },
        "FactoryReset" => {
            r.skip()?;
            AcsMessage::FactoryReset
        }
        "Download" => {
            AcsMessage::Download(transfer(&scalars(r, "Download", &TRANSFER_FIELDS)?, true)?)
        }
        "Upload" => AcsMessage::Upload(transfer(&scalars(r, "Upload", &TRANSFER_FIELDS)?, false)?),
        "ScheduleInform" => {
            let f = scalars(r, "ScheduleInform", &["DelaySeconds", "CommandKey"])?;
            AcsMessage::ScheduleInform {
                delay_seconds: f.uint("DelaySeconds")?,
                command_key: f.text_max("CommandKey", MAX_KEY)?,
            }
        }
        "ScheduleDownload" => {
            const RPC: &str = "ScheduleDownload";
            let mut windows = None;
            let f = fields(r, RPC, &TRANSFER_FIELDS, |r, s| {
                if s.name == "TimeWindowList" && windows.is_none() {
                    windows = Some(array(r, |r, _| time_window(r, RPC))?);
                    return Ok(true);
                }
                Ok(false)
            })?;
            let windows = windows.ok_or_else(|| missing(RPC, "TimeWindowList"))?;
            AcsMessage::ScheduleDownload {
                transfer: transfer(&f, true)?,
                windows,
            }
        }
        "CancelTransfer" => AcsMessage::CancelTransfer {
            command_key: scalars(r, "CancelTransfer", &["CommandKey"])?
                .text_max("CommandKey", MAX_KEY)?,
        },
        "GetQueuedTransfers" => {
            r.skip()?;
            AcsMessage::GetQueuedTransfers
        }
        "GetAllQueuedTransfers" => {
            r.skip()?;
            AcsMessage::GetAllQueuedTransfers
        }
        "InformResponse" => AcsMessage::InformResponse {
            max_envelopes: scalars(r, "InformResponse", &["MaxEnvelopes"])?
                .opt_uint("MaxEnvelopes")?,
        },
        "TransferCompleteResponse" => {
            r.skip()?;
            AcsMessage::TransferCompleteResponse
        }
        "AutonomousTransferCompleteResponse" => {
            r.skip()?;
            AcsMessage::AutonomousTransferCompleteResponse
        }
        "GetRPCMethodsResponse" => AcsMessage::GetRPCMethodsResponse {
            methods: string_list(r, "GetRPCMethodsResponse", "MethodList", MAX_SHORT)?,
        },
        other => {
            r.skip()?;
            AcsMessage::Unknown {
                name: other.chars().take(64).collect(),
            }
        }
    })
}

/// The SOAP Fault open now: detail/cwmp:Fault/FaultCode and FaultString; a bare SOAP fault
/// carries code 0 and its faultstring.
fn fault(r: &mut Reader) -> Result<AcsMessage, DecodeError> {
    let (mut code, mut cwmp_string, mut soap_string) = (None, None, None);
    while let Some(s) = r.child()? {
        match s.name.as_str() {
            "faultstring" if soap_string.is_none() => soap_string = Some(r.text()?),
            "detail" => {
                while let Some(d) = r.child()? {
                    if d.name != "Fault" {
                        r.skip()?;
                        continue;
                    }
                    while let Some(f) = r.child()? {
                        match f.name.as_str() {
                            "FaultCode" if code.is_none() => code = Some(r.text()?),
                            "FaultString" if cwmp_string.is_none() => cwmp_string = Some(r.text()?),
                            _ => r.skip()?,
                        }
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(AcsMessage::Fault {
        code: code.and_then(|c| c.trim().parse().ok()).unwrap_or(0),
        string: cwmp_string
            .or(soap_string)
            .map(|s| s.chars().take(256).collect())
            .unwrap_or_default(),
    })
}

/// The SOAP Header open now: the CWMP header elements (TR-069 A.4.1).
fn header(
    r: &mut Reader,
    header: &mut Header,
    version: &mut Option<CwmpVersion>,
) -> Result<(), DecodeError> {
    while let Some(c) = r.child()? {
        let Some(v) = CwmpVersion::from_ns(&c.ns) else {
            r.skip()?;
            continue;
        };
        version.get_or_insert(v);
        let text = r.text()?;
        match c.name.as_str() {
            "ID" => header.id = Some(text.chars().take(256).collect()),
            "HoldRequests" => header.hold_requests = parse_bool(&text),
            "SessionTimeout" => header.session_timeout = text.trim().parse().ok(),
            "UseCWMPVersion" => header.use_version = Some(text.trim().chars().take(16).collect()),
            "SupportedCWMPVersions" => {
                header.supported_versions = Some(text.trim().chars().take(64).collect())
            }
            "NoMoreRequests" => header.no_more_requests = parse_bool(&text).unwrap_or(false),
            _ => {}
        }
    }
    Ok(())
}

/// What the Body held.
enum Body {
    Empty,
    Message(AcsMessage, Option<CwmpVersion>),
    Invalid(String, CwmpVersion, DecodeError),
}

/// The SOAP Body open now: its first element is the message, the rest is passed over.
fn body(r: &mut Reader) -> Result<Body, DecodeError> {
    let Some(el) = r.child()? else {
        return Ok(Body::Empty);
    };
    let out = if el.ns == SOAP_ENV && el.name == "Fault" {
        Body::Message(fault(r)?, None)
    } else {
        let Some(v) = CwmpVersion::from_ns(&el.ns) else {
            return Err(DecodeError::NotEnvelope(format!(
                "{} is not in a CWMP namespace",
                el.name
            )));
        };
        let depth = r.depth();
        match rpc(r, &el.name) {
            Ok(m) => Body::Message(m, Some(v)),
            Err(Bad::Doc(e)) => return Err(e),
            Err(Bad::Arg(e)) => {
                // The rest of the RPC element is still read: the envelope must be whole.
                r.skip_to(depth.saturating_sub(1))?;
                Body::Invalid(el.name.chars().take(64).collect(), v, e)
            }
        }
    };
    r.skip()?;
    Ok(out)
}

/// Decodes an ACS message. Empty input (an empty HTTP body) is an empty message.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut out = Decoded {
        header: Header::default(),
        message: None,
        version: None,
        invalid: None,
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(out);
    }
    let mut r = Reader::new(bytes)?;
    match envelope(&mut r, &mut out) {
        Ok(()) => {
            r.finish()?;
            Ok(out)
        }
        // A malformed document is that, whatever else is wrong with it.
        Err(e @ DecodeError::NotEnvelope(_)) => Err(r.finish().err().unwrap_or(e)),
        Err(e) => Err(e),
    }
}

fn envelope(r: &mut Reader, out: &mut Decoded) -> Result<(), DecodeError> {
    let root = r.root()?;
    if root.ns != SOAP_ENV || root.name != "Envelope" {
        return Err(DecodeError::NotEnvelope(format!("root is {}", root.name)));
    }
    let mut header_seen = false;
    let mut found = None;
    while let Some(c) = r.child()? {
        if c.ns != SOAP_ENV {
            r.skip()?;
            continue;
        }
        match c.name.as_str() {
            "Header" if !header_seen => {
                header_seen = true;
                header(r, &mut out.header, &mut out.version)?;
            }
            "Body" if found.is_none() => found = Some(body(r)?),
            _ => r.skip()?,
        }
    }
    match found.ok_or_else(|| DecodeError::NotEnvelope("no Body".into()))? {
        Body::Empty => {}
        Body::Message(m, v) => {
            out.message = Some(m);
            if v.is_some() {
                out.version = v;
            }
        }
        Body::Invalid(name, v, e) => {
            out.version = Some(v);
            out.invalid = Some((name, e));
        }
    }
    Ok(())
}
