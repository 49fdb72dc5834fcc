//! Encoding CPE messages (TR-069 A.3). Element order follows the CWMP schemas, arrays carry
//! `soap-enc:arrayType`, values carry `xsi:type`, and every string is escaped.
//!
//! [`encode`] writes a message into a new buffer; [`encode_owned`] consumes it, so that a
//! GetParameterValuesResponse's [`ValueList`] becomes the envelope itself: the head is put
//! in front of the values (one move of the bytes within their buffer) and the tail after
//! them, and the answer costs its XML once (issue 13 §3).

use std::fmt::Write as _;

use super::fault::FaultCode;
use super::xml::escape;
use super::*;

fn el(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(text));
}

fn array(out: &mut String, name: &str, item_type: &str, n: usize, items: impl FnOnce(&mut String)) {
    let _ = write!(out, "<{name} soap-enc:arrayType=\"{item_type}[{n}]\">");
    items(out);
    let _ = write!(out, "</{name}>");
}

fn values(out: &mut String, list: &[ParameterValue]) {
    array(
        out,
        "ParameterList",
        "cwmp:ParameterValueStruct",
        list.len(),
        |o| {
            for p in list {
                super::values::write_struct(o, &p.name, &p.value, &p.xsd_type);
            }
        },
    );
}

/// The opening of a GetParameterValuesResponse up to its first value.
fn values_head(out: &mut String, list: &ValueList) {
    let _ = write!(
        out,
        "<cwmp:GetParameterValuesResponse><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[{}]\">",
        list.len()
    );
}

/// What closes a GetParameterValuesResponse after its last value.
const VALUES_TAIL: &str = "</ParameterList></cwmp:GetParameterValuesResponse>";

fn strings(out: &mut String, name: &str, list: &[String]) {
    array(out, name, "xsd:string", list.len(), |o| {
        for s in list {
            el(o, "string", s);
        }
    });
}

fn fault_struct(out: &mut String, code: u32, string: &str) {
    let _ = write!(out, "<FaultStruct><FaultCode>{code}</FaultCode>");
    el(out, "FaultString", string);
    out.push_str("</FaultStruct>");
}

/// SOAP faultcode for a CWMP fault (TR-069 Table 30: the "Type" column).
fn soap_fault_code(code: FaultCode) -> &'static str {
    match code {
        FaultCode::InvalidArguments
        | FaultCode::InvalidParameterName
        | FaultCode::InvalidParameterType
        | FaultCode::InvalidParameterValue
        | FaultCode::NonWritableParameter => "Client",
        _ => "Server",
    }
}

fn body(msg: &CpeMessage, out: &mut String) {
    match msg {
        CpeMessage::Inform {
            device_id,
            events,
            max_envelopes,
            current_time,
            retry_count,
            parameters,
        } => {
            out.push_str("<cwmp:Inform><DeviceId>");
            el(out, "Manufacturer", &device_id.manufacturer);
            el(out, "OUI", &device_id.oui);
            el(out, "ProductClass", &device_id.product_class);
            el(out, "SerialNumber", &device_id.serial_number);
            out.push_str("</DeviceId>");
            array(out, "Event", "cwmp:EventStruct", events.len(), |o| {
                for e in events {
                    o.push_str("<EventStruct>");
                    el(o, "EventCode", &e.code);
                    el(o, "CommandKey", &e.command_key);
                    o.push_str("</EventStruct>");
                }
            });
            let _ = write!(out, "<MaxEnvelopes>{max_envelopes}</MaxEnvelopes>");
            el(out, "CurrentTime", current_time);
            let _ = write!(out, "<RetryCount>{retry_count}</RetryCount>");
            values(out, parameters);
            out.push_str("</cwmp:Inform>");
        }
        CpeMessage::GetRPCMethods => out.push_str("<cwmp:GetRPCMethods></cwmp:GetRPCMethods>"),
        CpeMessage::TransferComplete(r) => {
            out.push_str("<cwmp:TransferComplete>");
            el(out, "CommandKey", &r.command_key);
            fault_struct(out, r.fault_code, &r.fault_string);
            el(out, "StartTime", &r.start_time);
            el(out, "CompleteTime", &r.complete_time);
            out.push_str("</cwmp:TransferComplete>");
        }
        CpeMessage::AutonomousTransferComplete {
            result,
            announce_url,
            transfer_url,
            is_download,
            file_type,
            file_size,
            target_file_name,
        } => {
            out.push_str("<cwmp:AutonomousTransferComplete>");
            el(out, "AnnounceURL", announce_url);
            el(out, "TransferURL", transfer_url);
            let _ = write!(out, "<IsDownload>{}</IsDownload>", u8::from(*is_download));
            el(out, "FileType", file_type);
            let _ = write!(out, "<FileSize>{file_size}</FileSize>");
            el(out, "TargetFileName", target_file_name);
            fault_struct(out, result.fault_code, &result.fault_string);
            el(out, "StartTime", &result.start_time);
            el(out, "CompleteTime", &result.complete_time);
            out.push_str("</cwmp:AutonomousTransferComplete>");
        }
        CpeMessage::GetRPCMethodsResponse { methods } => {
            out.push_str("<cwmp:GetRPCMethodsResponse>");
            strings(out, "MethodList", methods);
            out.push_str("</cwmp:GetRPCMethodsResponse>");
        }
        CpeMessage::GetParameterValuesResponse { list } => {
            values_head(out, list);
            out.push_str(list.xml());
            out.push_str(VALUES_TAIL);
        }
        CpeMessage::SetParameterValuesResponse { status } => {
            let _ = write!(out, "<cwmp:SetParameterValuesResponse><Status>{status}</Status></cwmp:SetParameterValuesResponse>");
        }
        CpeMessage::GetParameterNamesResponse { list } => {
            out.push_str("<cwmp:GetParameterNamesResponse>");
            array(
                out,
                "ParameterList",
                "cwmp:ParameterInfoStruct",
                list.len(),
                |o| {
                    for p in list {
                        let _ = write!(o, "<ParameterInfoStruct><Name>{}</Name><Writable>{}</Writable></ParameterInfoStruct>", escape(&p.name), u8::from(p.writable));
                    }
                },
            );
            out.push_str("</cwmp:GetParameterNamesResponse>");
        }
        CpeMessage::GetParameterAttributesResponse { list } => {
            out.push_str("<cwmp:GetParameterAttributesResponse>");
            array(
                out,
                "ParameterList",
                "cwmp:ParameterAttributeStruct",
                list.len(),
                |o| {
                    for p in list {
                        let _ = write!(o, "<ParameterAttributeStruct><Name>{}</Name><Notification>{}</Notification>", escape(&p.name), p.notification);
                        strings(o, "AccessList", &p.access_list);
                        o.push_str("</ParameterAttributeStruct>");
                    }
                },
            );
            out.push_str("</cwmp:GetParameterAttributesResponse>");
        }
        CpeMessage::SetParameterAttributesResponse => out.push_str(
            "<cwmp:SetParameterAttributesResponse></cwmp:SetParameterAttributesResponse>",
        ),
        CpeMessage::AddObjectResponse {
            instance_number,
            status,
        } => {
            let _ = write!(out, "<cwmp:AddObjectResponse><InstanceNumber>{instance_number}</InstanceNumber><Status>{status}</Status></cwmp:AddObjectResponse>");
        }
        CpeMessage::DeleteObjectResponse { status } => {
            let _ = write!(
                out,
                "<cwmp:DeleteObjectResponse><Status>{status}</Status></cwmp:DeleteObjectResponse>"
            );
        }
        CpeMessage::RebootResponse => out.push_str("<cwmp:RebootResponse></cwmp:RebootResponse>"),
        CpeMessage::FactoryResetResponse => {
            out.push_str("<cwmp:FactoryResetResponse></cwmp:FactoryResetResponse>")
        }
        CpeMessage::DownloadResponse {
            status,
            start_time,
            complete_time,
        }
        | CpeMessage::UploadResponse {
            status,
            start_time,
            complete_time,
        } => {
            let name = if matches!(msg, CpeMessage::DownloadResponse { .. }) {
                "DownloadResponse"
            } else {
                "UploadResponse"
            };
            let _ = write!(out, "<cwmp:{name}><Status>{status}</Status>");
            el(out, "StartTime", start_time);
            el(out, "CompleteTime", complete_time);
            let _ = write!(out, "</cwmp:{name}>");
        }
        CpeMessage::ScheduleInformResponse => {
            out.push_str("<cwmp:ScheduleInformResponse></cwmp:ScheduleInformResponse>")
        }
        CpeMessage::ScheduleDownloadResponse => {
            out.push_str("<cwmp:ScheduleDownloadResponse></cwmp:ScheduleDownloadResponse>")
        }
        CpeMessage::CancelTransferResponse => {
            out.push_str("<cwmp:CancelTransferResponse></cwmp:CancelTransferResponse>")
        }
        CpeMessage::GetQueuedTransfersResponse { list } => {
            out.push_str("<cwmp:GetQueuedTransfersResponse>");
            array(
                out,
                "TransferList",
                "cwmp:QueuedTransferStruct",
                list.len(),
                |o| {
                    for t in list {
                        o.push_str("<QueuedTransferStruct>");
                        el(o, "CommandKey", &t.command_key);
                        let _ = write!(o, "<State>{}</State></QueuedTransferStruct>", t.state);
                    }
                },
            );
            out.push_str("</cwmp:GetQueuedTransfersResponse>");
        }
        CpeMessage::GetAllQueuedTransfersResponse { list } => {
            out.push_str("<cwmp:GetAllQueuedTransfersResponse>");
            array(
                out,
                "TransferList",
                "cwmp:AllQueuedTransferStruct",
                list.len(),
                |o| {
                    for t in list {
                        o.push_str("<AllQueuedTransferStruct>");
                        el(o, "CommandKey", &t.command_key);
                        let _ = write!(
                            o,
                            "<State>{}</State><IsDownload>{}</IsDownload>",
                            t.state,
                            u8::from(t.is_download)
                        );
                        el(o, "FileType", &t.file_type);
                        let _ = write!(o, "<FileSize>{}</FileSize>", t.file_size);
                        el(o, "TargetFileName", &t.target_file_name);
                        o.push_str("</AllQueuedTransferStruct>");
                    }
                },
            );
            out.push_str("</cwmp:GetAllQueuedTransfersResponse>");
        }
        CpeMessage::Fault(f) => {
            let _ = write!(out, "<soap-env:Fault><faultcode>{}</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault>", soap_fault_code(f.code));
            let _ = write!(out, "<FaultCode>{}</FaultCode>", f.code.code());
            el(out, "FaultString", &f.fault_string());
            for p in &f.parameters {
                out.push_str("<SetParameterValuesFault>");
                el(out, "ParameterName", &p.name);
                let _ = write!(out, "<FaultCode>{}</FaultCode>", p.code.code());
                el(out, "FaultString", p.code.text());
                out.push_str("</SetParameterValuesFault>");
            }
            out.push_str("</cwmp:Fault></detail></soap-env:Fault>");
        }
    }
}

/// The envelope up to the body's content: XML declaration, namespaces, header.
fn head(out: &mut String, header: &Header, version: CwmpVersion) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope xmlns:soap-env=\"{SOAP_ENV}\" xmlns:soap-enc=\"{SOAP_ENC}\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cwmp=\"{}\">",
        version.ns()
    );
    out.push_str("<soap-env:Header>");
    if let Some(id) = &header.id {
        let _ = write!(
            out,
            "<cwmp:ID soap-env:mustUnderstand=\"1\">{}</cwmp:ID>",
            escape(id)
        );
    }
    // SessionTimeout (CWMP 1.3) and SupportedCWMPVersions (1.4) live in the cwmp-1-2
    // namespace; ACSs that know only 1.2 ignore them (mustUnderstand=0).
    if let (Some(t), true) = (header.session_timeout, version >= CwmpVersion::V1_2) {
        let _ = write!(
            out,
            "<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">{t}</cwmp:SessionTimeout>"
        );
    }
    if let (Some(v), true) = (&header.supported_versions, version >= CwmpVersion::V1_2) {
        let _ = write!(out, "<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">{}</cwmp:SupportedCWMPVersions>", escape(v));
    }
    out.push_str("</soap-env:Header><soap-env:Body>");
}

/// What closes the envelope.
const TAIL: &str = "</soap-env:Body></soap-env:Envelope>\n";

/// Encodes a CPE message in the given CWMP namespace.
pub fn encode(msg: &CpeMessage, header: &Header, version: CwmpVersion) -> Vec<u8> {
    let mut out = String::with_capacity(1024);
    head(&mut out, header, version);
    body(msg, &mut out);
    out.push_str(TAIL);
    out.into_bytes()
}

/// [`encode`], consuming the message: the values of a GetParameterValuesResponse are not
/// copied, the envelope is built around their buffer. The bytes are the same.
pub fn encode_owned(msg: CpeMessage, header: &Header, version: CwmpVersion) -> Vec<u8> {
    let CpeMessage::GetParameterValuesResponse { list } = msg else {
        return encode(&msg, header, version);
    };
    let mut front = String::with_capacity(1024);
    head(&mut front, header, version);
    values_head(&mut front, &list);
    let mut out = list.into_xml().into_bytes();
    // One move of the values within their buffer to make room in front of them, then the
    // tail: the list grew by doubling, so the few hundred bytes of head and tail nearly always
    // fit in the capacity it has already (untouched capacity costs no resident memory).
    out.reserve_exact(front.len() + VALUES_TAIL.len() + TAIL.len());
    out.splice(0..0, front.bytes());
    out.extend_from_slice(VALUES_TAIL.as_bytes());
    out.extend_from_slice(TAIL.as_bytes());
    out
}
