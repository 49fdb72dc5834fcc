//! Decoding ACS messages. Envelope problems are errors; an RPC with bad arguments decodes to
//! `Decoded::invalid` so the session can still answer with a fault carrying the right ID.

use super::xml::{self, Element};
use super::*;

type R<T> = Result<T, DecodeError>;

struct Args<'a> {
    rpc: &'a str,
    el: &'a Element,
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

impl<'a> Args<'a> {
    fn missing(&self, field: &'static str) -> DecodeError {
        DecodeError::Missing {
            rpc: self.rpc.to_string(),
            field,
        }
    }

    fn invalid(&self, field: &'static str) -> DecodeError {
        DecodeError::Invalid {
            rpc: self.rpc.to_string(),
            field,
        }
    }

    fn child(&self, field: &'static str) -> R<&'a Element> {
        self.el.child(field).ok_or_else(|| self.missing(field))
    }

    fn text(&self, field: &'static str) -> R<String> {
        Ok(self.child(field)?.text.clone())
    }

    fn text_max(&self, field: &'static str, max: usize) -> R<String> {
        let t = self.text(field)?;
        if t.chars().count() > max {
            return Err(self.invalid(field));
        }
        Ok(t)
    }

    fn opt_text(&self, field: &'static str) -> String {
        self.el
            .child(field)
            .map(|e| e.text.clone())
            .unwrap_or_default()
    }

    fn uint(&self, field: &'static str) -> R<u32> {
        self.child(field)?
            .text
            .trim()
            .parse()
            .map_err(|_| self.invalid(field))
    }

    fn opt_uint(&self, field: &'static str) -> R<u32> {
        match self.el.child(field) {
            None => Ok(0),
            Some(e) if e.text.trim().is_empty() => Ok(0),
            Some(e) => e.text.trim().parse().map_err(|_| self.invalid(field)),
        }
    }

    fn boolean(&self, field: &'static str) -> R<bool> {
        parse_bool(&self.child(field)?.text).ok_or_else(|| self.invalid(field))
    }

    /// The element children of an array argument, bounded.
    fn array(&self, field: &'static str) -> R<Vec<&'a Element>> {
        let arr = self.child(field)?;
        if arr.children.len() > MAX_LIST {
            return Err(DecodeError::Limit("list length"));
        }
        Ok(arr.children.iter().collect())
    }

    fn strings(&self, field: &'static str, max_len: usize) -> R<Vec<String>> {
        self.array(field)?
            .into_iter()
            .map(|e| {
                if e.text.chars().count() > max_len {
                    Err(self.invalid(field))
                } else {
                    Ok(e.text.trim().to_string())
                }
            })
            .collect()
    }

    fn transfer(&self, with_size: bool) -> R<Transfer> {
        Ok(Transfer {
            command_key: self.text_max("CommandKey", MAX_KEY)?,
            file_type: self.text_max("FileType", 64)?,
            url: self.text_max("URL", 256)?,
            username: self.opt_text("Username"),
            password: self.opt_text("Password"),
            file_size: if with_size {
                self.opt_uint("FileSize")?
            } else {
                0
            },
            target_file_name: self.opt_text("TargetFileName"),
            delay_seconds: self.opt_uint("DelaySeconds")?,
            success_url: self.opt_text("SuccessURL"),
            failure_url: self.opt_text("FailureURL"),
        })
    }
}

fn rpc(name: &str, el: &Element) -> R<AcsMessage> {
    let a = Args { rpc: name, el };
    Ok(match name {
        "GetRPCMethods" => AcsMessage::GetRPCMethods,
        "GetParameterValues" => AcsMessage::GetParameterValues {
            names: a.strings("ParameterNames", MAX_NAME)?,
        },
        "SetParameterValues" => {
            let mut list = Vec::new();
            for pv in a.array("ParameterList")? {
                let p = Args { rpc: name, el: pv };
                let v = p.child("Value")?;
                let name = p.text_max("Name", MAX_NAME)?.trim().to_string();
                let ty = v
                    .attr("type")
                    .map(|t| t.rsplit(':').next().unwrap_or(t).to_string())
                    .unwrap_or_default();
                list.push(ParameterValue {
                    name,
                    value: v.text.clone(),
                    xsd_type: ty,
                });
            }
            AcsMessage::SetParameterValues {
                list,
                parameter_key: a.text_max("ParameterKey", MAX_KEY).unwrap_or_default(),
            }
        }
        "GetParameterNames" => AcsMessage::GetParameterNames {
            path: a.text_max("ParameterPath", MAX_NAME)?.trim().to_string(),
            next_level: a.boolean("NextLevel")?,
        },
        "GetParameterAttributes" => AcsMessage::GetParameterAttributes {
            names: a.strings("ParameterNames", MAX_NAME)?,
        },
        "SetParameterAttributes" => {
            let mut list = Vec::new();
            for s in a.array("ParameterList")? {
                let p = Args { rpc: name, el: s };
                let notification = p.uint("Notification").unwrap_or(0);
                list.push(SetParameterAttribute {
                    name: p.text_max("Name", MAX_NAME)?.trim().to_string(),
                    notification_change: p.boolean("NotificationChange")?,
                    notification: u8::try_from(notification)
                        .map_err(|_| p.invalid("Notification"))?,
                    access_list_change: p.boolean("AccessListChange")?,
                    access_list: if s.child("AccessList").is_some() {
                        p.strings("AccessList", 64)?
                    } else {
                        Vec::new()
                    },
                });
            }
            AcsMessage::SetParameterAttributes { list }
        }
        "AddObject" => AcsMessage::AddObject {
            object_name: a.text_max("ObjectName", MAX_NAME)?.trim().to_string(),
            parameter_key: a.text_max("ParameterKey", MAX_KEY).unwrap_or_default(),
        },
        "DeleteObject" => AcsMessage::DeleteObject {
            object_name: a.text_max("ObjectName", MAX_NAME)?.trim().to_string(),
            parameter_key: a.text_max("ParameterKey", MAX_KEY).unwrap_or_default(),
        },
        "Reboot" => AcsMessage::Reboot {
            command_key: a.text_max("CommandKey", MAX_KEY)?,
        },
        "FactoryReset" => AcsMessage::FactoryReset,
        "Download" => AcsMessage::Download(a.transfer(true)?),
        "Upload" => AcsMessage::Upload(a.transfer(false)?),
        "ScheduleInform" => AcsMessage::ScheduleInform {
            delay_seconds: a.uint("DelaySeconds")?,
            command_key: a.text_max("CommandKey", MAX_KEY)?,
        },
        "ScheduleDownload" => {
            let mut windows = Vec::new();
            for w in a.array("TimeWindowList")? {
                let p = Args { rpc: name, el: w };
                windows.push(TimeWindow {
                    window_start: p.uint("WindowStart")?,
                    window_end: p.uint("WindowEnd")?,
                    window_mode: p.text_max("WindowMode", 64)?,
                    user_message: p.opt_text("UserMessage"),
                    max_retries: p
                        .child("MaxRetries")?
                        .text
                        .trim()
                        .parse()
                        .map_err(|_| p.invalid("MaxRetries"))?,
                });
            }
            AcsMessage::ScheduleDownload {
                transfer: a.transfer(true)?,
                windows,
            }
        }
        "CancelTransfer" => AcsMessage::CancelTransfer {
            command_key: a.text_max("CommandKey", MAX_KEY)?,
        },
        "GetQueuedTransfers" => AcsMessage::GetQueuedTransfers,
        "GetAllQueuedTransfers" => AcsMessage::GetAllQueuedTransfers,
        "InformResponse" => AcsMessage::InformResponse {
            max_envelopes: a.opt_uint("MaxEnvelopes")?,
        },
        "TransferCompleteResponse" => AcsMessage::TransferCompleteResponse,
        "AutonomousTransferCompleteResponse" => AcsMessage::AutonomousTransferCompleteResponse,
        "GetRPCMethodsResponse" => AcsMessage::GetRPCMethodsResponse {
            methods: a.strings("MethodList", 64)?,
        },
        other => AcsMessage::Unknown {
            name: other.chars().take(64).collect(),
        },
    })
}

fn fault(el: &Element) -> AcsMessage {
    // detail/cwmp:Fault/FaultCode; a bare SOAP fault carries code 0.
    let cwmp = el.child("detail").and_then(|d| d.child("Fault"));
    let code = cwmp
        .and_then(|f| f.child("FaultCode"))
        .and_then(|c| c.text.trim().parse().ok())
        .unwrap_or(0);
    let string = cwmp
        .and_then(|f| f.child("FaultString"))
        .or_else(|| el.child("faultstring"))
        .map(|s| s.text.chars().take(256).collect())
        .unwrap_or_default();
    AcsMessage::Fault { code, string }
}

/// Decodes an ACS message. Empty input (an empty HTTP body) is an empty message.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Decoded {
            header: Header::default(),
            message: None,
            version: None,
            invalid: None,
        });
    }
    let root = xml::parse(bytes)?;
    if root.ns != SOAP_ENV || root.name != "Envelope" {
        return Err(DecodeError::NotEnvelope(format!("root is {}", root.name)));
    }
    let mut header = Header::default();
    let mut version = None;
    if let Some(h) = root
        .children
        .iter()
        .find(|c| c.ns == SOAP_ENV && c.name == "Header")
    {
        for c in &h.children {
            let Some(v) = CwmpVersion::from_ns(&c.ns) else {
                continue;
            };
            version.get_or_insert(v);
            match c.name.as_str() {
                "ID" => header.id = Some(c.text.chars().take(256).collect()),
                "HoldRequests" => header.hold_requests = parse_bool(&c.text),
                "SessionTimeout" => header.session_timeout = c.text.trim().parse().ok(),
                "UseCWMPVersion" => {
                    header.use_version = Some(c.text.trim().chars().take(16).collect())
                }
                "SupportedCWMPVersions" => {
                    header.supported_versions = Some(c.text.trim().chars().take(64).collect())
                }
                "NoMoreRequests" => header.no_more_requests = parse_bool(&c.text).unwrap_or(false),
                _ => {}
            }
        }
    }
    let body = root
        .children
        .iter()
        .find(|c| c.ns == SOAP_ENV && c.name == "Body")
        .ok_or_else(|| DecodeError::NotEnvelope("no Body".into()))?;
    let Some(el) = body.children.first() else {
        return Ok(Decoded {
            header,
            message: None,
            version,
            invalid: None,
        });
    };
    if el.ns == SOAP_ENV && el.name == "Fault" {
        return Ok(Decoded {
            header,
            message: Some(fault(el)),
            version,
            invalid: None,
        });
    }
    let v = CwmpVersion::from_ns(&el.ns).ok_or_else(|| {
        DecodeError::NotEnvelope(format!("{} is not in a CWMP namespace", el.name))
    })?;
    match rpc(&el.name, el) {
        Ok(m) => Ok(Decoded {
            header,
            message: Some(m),
            version: Some(v),
            invalid: None,
        }),
        Err(e) => Ok(Decoded {
            header,
            message: None,
            version: Some(v),
            invalid: Some((el.name.chars().take(64).collect(), e)),
        }),
    }
}
