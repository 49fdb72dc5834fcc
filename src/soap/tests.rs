//! Codec tests: the committed corpus of ACS messages (also the fuzz seed corpus), every prefix
//! of each, every limit, and an encoding of every CPE message.

use super::*;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 20, "corpus missing");
    v
}

fn load(name: &str) -> Decoded {
    let bytes = corpus().into_iter().find(|(n, _)| n == name).unwrap().1;
    decode(&bytes).unwrap()
}

#[test]
fn corpus_messages_decode_to_their_rpcs() {
    let d = load("gpv_genieacs.xml");
    assert_eq!(d.header.id.as_deref(), Some("1001"));
    assert_eq!(d.version, Some(CwmpVersion::V1_0));
    assert_eq!(
        d.message,
        Some(AcsMessage::GetParameterValues {
            names: vec![
                "Device.DeviceInfo.".into(),
                "Device.ManagementServer.PeriodicInformInterval".into()
            ]
        })
    );
    let d = load("spv_soapenv.xml");
    assert_eq!(d.header.hold_requests, Some(false));
    assert_eq!(d.version, Some(CwmpVersion::V1_2));
    match d.message.unwrap() {
        AcsMessage::SetParameterValues {
            list,
            parameter_key,
        } => {
            assert_eq!(parameter_key, "key-1");
            assert_eq!(list[0].xsd_type, "unsignedInt");
            assert_eq!(list[1].value, "A & B <c>");
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(
        load("gpn_default_ns.xml").message,
        Some(AcsMessage::GetParameterNames {
            path: "Device.".into(),
            next_level: true
        })
    );
    assert_eq!(load("gpn_default_ns.xml").version, Some(CwmpVersion::V1_4));
    match load("spa.xml").message.unwrap() {
        AcsMessage::SetParameterAttributes { list } => {
            assert_eq!(
                (
                    list[0].notification_change,
                    list[0].notification,
                    list[0].access_list.clone()
                ),
                (true, 2, vec!["Subscriber".to_string()])
            )
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(
        load("addobject.xml").message,
        Some(AcsMessage::AddObject {
            object_name: "Device.WiFi.SSID.".into(),
            parameter_key: "k2".into()
        })
    );
    assert_eq!(
        load("reboot.xml").message,
        Some(AcsMessage::Reboot {
            command_key: "reboot-42".into()
        })
    );
    assert_eq!(
        load("factoryreset.xml").message,
        Some(AcsMessage::FactoryReset)
    );
    match load("download.xml").message.unwrap() {
        AcsMessage::Download(t) => assert_eq!(
            (t.file_size, t.file_type.as_str(), t.username.as_str()),
            (1_048_576, "1 Firmware Upgrade Image", "u")
        ),
        m => panic!("{m:?}"),
    }
    assert!(matches!(
        load("upload.xml").message,
        Some(AcsMessage::Upload(Transfer {
            delay_seconds: 5,
            ..
        }))
    ));
    assert_eq!(
        load("scheduleinform.xml").message,
        Some(AcsMessage::ScheduleInform {
            delay_seconds: 30,
            command_key: "later".into()
        })
    );
    match load("scheduledownload.xml").message.unwrap() {
        AcsMessage::ScheduleDownload { windows, .. } => {
            assert_eq!((windows[0].window_end, windows[0].max_retries), (3600, 2))
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(
        load("canceltransfer.xml").message,
        Some(AcsMessage::CancelTransfer {
            command_key: "sd-1".into()
        })
    );
    assert_eq!(
        load("getqueuedtransfers.xml").message,
        Some(AcsMessage::GetQueuedTransfers)
    );
    assert_eq!(
        load("getallqueuedtransfers.xml").message,
        Some(AcsMessage::GetAllQueuedTransfers)
    );
    assert_eq!(
        load("getrpcmethods.xml").message,
        Some(AcsMessage::GetRPCMethods)
    );
    assert_eq!(
        load("informresponse.xml").message,
        Some(AcsMessage::InformResponse { max_envelopes: 1 })
    );
    assert_eq!(
        load("transfercompleteresponse.xml").message,
        Some(AcsMessage::TransferCompleteResponse)
    );
    assert!(matches!(
        load("getrpcmethodsresponse.xml").message,
        Some(AcsMessage::GetRPCMethodsResponse { .. })
    ));
    assert_eq!(
        load("acs_fault.xml").message,
        Some(AcsMessage::Fault {
            code: 8005,
            string: "Retry request".into()
        })
    );
    assert_eq!(
        load("unknown_rpc.xml").message,
        Some(AcsMessage::Unknown {
            name: "X_ACME_Frobnicate".into()
        })
    );
    let atc = load("autonomoustransfercompleteresponse.xml");
    assert_eq!(
        (atc.header.id.as_deref(), atc.message),
        (
            Some("atc-7"),
            Some(AcsMessage::AutonomousTransferCompleteResponse)
        )
    );
    // A bare SOAP fault (no cwmp detail) carries code 0.
    assert_eq!(
        load("plain_soap_fault.xml").message,
        Some(AcsMessage::Fault {
            code: 0,
            string: "Internal error".into()
        })
    );
    assert_eq!(load("empty_body.xml").message, None);
    let odd = load("odd_prefixes.xml");
    assert_eq!(
        (odd.header.hold_requests, odd.version),
        (Some(true), Some(CwmpVersion::V1_1))
    );
    assert_eq!(decode(b"").unwrap().message, None);
}

#[test]
fn every_prefix_of_every_message_fails_cleanly() {
    for (name, bytes) in corpus() {
        for cut in 0..bytes.len() {
            fuzz_decode(&bytes[..cut]);
        }
        // A byte flipped anywhere must not panic either.
        for i in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            fuzz_decode(&b);
        }
        assert!(decode(&bytes).is_ok(), "{name}");
    }
}

#[test]
fn bad_arguments_are_reported_with_the_rpc_and_id() {
    let bytes = String::from_utf8(
        corpus()
            .into_iter()
            .find(|(n, _)| n == "gpn_default_ns.xml")
            .unwrap()
            .1,
    )
    .unwrap();
    let d = decode(bytes.replace(">true<", ">maybe<").as_bytes()).unwrap();
    assert_eq!(d.header.id.as_deref(), Some("gpn"));
    let (rpc, e) = d.invalid.unwrap();
    assert_eq!(rpc, "GetParameterNames");
    assert_eq!(
        e,
        DecodeError::Invalid {
            rpc: "GetParameterNames".into(),
            field: "NextLevel"
        }
    );
    let reboot = String::from_utf8(
        corpus()
            .into_iter()
            .find(|(n, _)| n == "reboot.xml")
            .unwrap()
            .1,
    )
    .unwrap();
    let long_key = reboot.replace("reboot-42", &"k".repeat(MAX_KEY + 1));
    assert!(matches!(
        decode(long_key.as_bytes()).unwrap().invalid,
        Some((
            _,
            DecodeError::Invalid {
                field: "CommandKey",
                ..
            }
        ))
    ));
    let no_key = reboot
        .replace("<cwmp:CommandKey>reboot-42</cwmp:CommandKey>", "")
        .replace("<CommandKey>reboot-42</CommandKey>", "");
    assert!(matches!(
        decode(no_key.as_bytes()).unwrap().invalid,
        Some((
            _,
            DecodeError::Missing {
                field: "CommandKey",
                ..
            }
        ))
    ));
}

#[test]
fn envelope_errors() {
    assert!(matches!(decode(b"<a/>"), Err(DecodeError::NotEnvelope(_))));
    assert!(matches!(decode(b"not xml"), Err(DecodeError::Xml(_))));
    assert!(matches!(
        decode(b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x/>"),
        Err(DecodeError::Xml(_))
    ));
    let no_body = format!("<e:Envelope xmlns:e=\"{SOAP_ENV}\"><e:Header/></e:Envelope>");
    assert!(matches!(
        decode(no_body.as_bytes()),
        Err(DecodeError::NotEnvelope(_))
    ));
    let foreign = format!("<e:Envelope xmlns:e=\"{SOAP_ENV}\"><e:Body><x:Get xmlns:x=\"urn:other\"/></e:Body></e:Envelope>");
    assert!(matches!(
        decode(foreign.as_bytes()),
        Err(DecodeError::NotEnvelope(_))
    ));
}

fn wrap(body: &str) -> String {
    format!("<e:Envelope xmlns:e=\"{SOAP_ENV}\" xmlns:c=\"urn:dslforum-org:cwmp-1-0\"><e:Body>{body}</e:Body></e:Envelope>")
}

#[test]
fn every_limit_is_enforced() {
    let big = vec![b' '; xml::MAX_BODY_BYTES + 1];
    let mut big_doc = wrap("").into_bytes();
    big_doc.extend_from_slice(&big);
    assert_eq!(decode(&big_doc), Err(DecodeError::Limit("body size")));
    let deep = wrap(&format!(
        "<c:GetRPCMethods>{}{}</c:GetRPCMethods>",
        "<a>".repeat(xml::MAX_DEPTH),
        "</a>".repeat(xml::MAX_DEPTH)
    ));
    assert_eq!(
        decode(deep.as_bytes()),
        Err(DecodeError::Limit("element depth"))
    );
    let long_text = wrap(&format!(
        "<c:Reboot><CommandKey>{}</CommandKey></c:Reboot>",
        "x".repeat(xml::MAX_TEXT + 1)
    ));
    assert_eq!(
        decode(long_text.as_bytes()),
        Err(DecodeError::Limit("text length"))
    );
    let attrs: String = (0..=xml::MAX_ATTRIBUTES)
        .map(|i| format!(" a{i}=\"1\""))
        .collect();
    let many_attrs = wrap(&format!("<c:GetRPCMethods{attrs}/>"));
    assert_eq!(
        decode(many_attrs.as_bytes()),
        Err(DecodeError::Limit("attribute count"))
    );
    // The envelope declares two namespaces; these fill what is left and one more.
    let decls: String = (0..xml::MAX_NAMESPACES - 1)
        .map(|i| format!(" xmlns:n{i}=\"urn:{i}\""))
        .collect();
    let fitting = decls.rsplit_once(" xmlns:").map_or("", |(a, _)| a);
    let full = wrap(&format!("<c:GetRPCMethods{fitting}/>"));
    assert!(decode(full.as_bytes()).is_ok());
    let many_decls = wrap(&format!("<c:GetRPCMethods{decls}/>"));
    assert_eq!(
        decode(many_decls.as_bytes()),
        Err(DecodeError::Limit("namespace count"))
    );
    let names = "<string>Device.</string>".repeat(MAX_LIST + 1);
    let long_list = wrap(&format!(
        "<c:GetParameterValues><ParameterNames>{names}</ParameterNames></c:GetParameterValues>"
    ));
    assert!(matches!(
        decode(long_list.as_bytes()).unwrap().invalid,
        Some((_, DecodeError::Limit("list length")))
    ));
    let elements = "<x/>".repeat(xml::MAX_ELEMENTS);
    let many = wrap(&format!("<c:GetRPCMethods>{elements}</c:GetRPCMethods>"));
    assert_eq!(
        decode(many.as_bytes()),
        Err(DecodeError::Limit("element count"))
    );
    let long_name = wrap(&format!("<c:GetParameterValues><ParameterNames><string>{}</string></ParameterNames></c:GetParameterValues>", "D".repeat(MAX_NAME + 1)));
    assert!(matches!(
        decode(long_name.as_bytes()).unwrap().invalid,
        Some((_, DecodeError::Invalid { .. }))
    ));
}

#[test]
fn every_cpe_message_encodes_to_well_formed_xml_in_the_acs_namespace() {
    let header = Header {
        id: Some("id <1>".into()),
        session_timeout: Some(30),
        supported_versions: Some("1.0,1.1,1.2,1.3,1.4".into()),
        ..Default::default()
    };
    for v in CwmpVersion::ALL {
        for m in samples::every_cpe_message() {
            let bytes = encode(&m, &header, v);
            let root = cwmpd_testacs::dom::parse(&bytes).unwrap_or_else(|e| panic!("{m:?}: {e}"));
            assert_eq!(
                (root.ns.as_str(), root.name.as_str()),
                (SOAP_ENV, "Envelope")
            );
            let h = root.child("Header").unwrap();
            assert_eq!(h.child("ID").unwrap().text, "id <1>");
            assert_eq!(h.child("ID").unwrap().ns, v.ns());
            assert_eq!(h.child("SessionTimeout").is_some(), v >= CwmpVersion::V1_2);
            assert_eq!(
                h.child("SupportedCWMPVersions").is_some(),
                v >= CwmpVersion::V1_2
            );
            let body = root.child("Body").unwrap().children.first().unwrap();
            if !matches!(m, CpeMessage::Fault(_)) {
                assert_eq!(body.ns, v.ns());
            }
        }
    }
    let fault = encode(
        &samples::every_cpe_message().pop().unwrap(),
        &Header::default(),
        CwmpVersion::V1_0,
    );
    let text = String::from_utf8(fault).unwrap();
    assert!(
        text.contains("<faultcode>Client</faultcode>")
            && text.contains("<FaultCode>9003</FaultCode>")
            && text.contains("<FaultCode>9008</FaultCode>")
    );
}

#[test]
fn encoding_a_message_it_owns_gives_the_same_bytes() {
    let header = Header {
        id: Some("id <1>".into()),
        ..Default::default()
    };
    let mut many = ValueList::new();
    for i in 0..1000 {
        many.push(&format!("Device.X.{i}.Name"), "a & b", "string")
            .unwrap();
    }
    let mut all = samples::every_cpe_message();
    all.push(CpeMessage::GetParameterValuesResponse { list: many });
    all.push(CpeMessage::GetParameterValuesResponse {
        list: ValueList::new(),
    });
    for v in CwmpVersion::ALL {
        for m in &all {
            assert_eq!(
                encode_owned(m.clone(), &header, v),
                encode(m, &header, v),
                "{m:?}"
            );
        }
    }
}

/// A GetParameterValuesResponse over the RPC layer's cap is refused value by value, before it is
/// written: the list never holds more than its limit.
#[test]
fn a_value_list_never_passes_its_limit() {
    let mut l = ValueList::with_limit(10_000);
    let mut refused = 0;
    for i in 0..1000 {
        if l.push(&format!("Device.X.{i}"), "value", "string").is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0 && l.bytes() <= 10_000, "{} bytes", l.bytes());
    assert_eq!(l.len() + refused, 1000);
    let text = String::from_utf8(encode_owned(
        CpeMessage::GetParameterValuesResponse { list: l.clone() },
        &Header::default(),
        CwmpVersion::V1_2,
    ))
    .unwrap();
    assert!(text.contains(&format!("cwmp:ParameterValueStruct[{}]", l.len())));
}

/// Golden encodings in `tests/fixtures/soap/`: a change in what cwmpd puts on the wire shows up
/// as a fixture diff. Re-bless with `BLESS=1 cargo test --lib soap`.
#[test]
fn encodings_match_golden_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soap");
    let header = Header {
        id: Some("golden-1".into()),
        ..Default::default()
    };
    let all = samples::every_cpe_message();
    let pick = |name: &str| {
        all.iter()
            .find(|m| format!("{m:?}").starts_with(name))
            .unwrap_or_else(|| panic!("no sample {name}"))
    };
    let cases = [
        ("inform-1-0.xml", pick("Inform"), CwmpVersion::V1_0),
        ("inform-1-4.xml", pick("Inform"), CwmpVersion::V1_4),
        (
            "getparametervaluesresponse-1-2.xml",
            pick("GetParameterValuesResponse"),
            CwmpVersion::V1_2,
        ),
        (
            "addobjectresponse-1-0.xml",
            pick("AddObjectResponse"),
            CwmpVersion::V1_0,
        ),
        ("fault-1-0.xml", pick("Fault"), CwmpVersion::V1_0),
    ];
    let bless = std::env::var_os("BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (file, msg, version) in cases {
        let got = encode(msg, &header, version);
        let path = dir.join(file);
        if bless {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1)", path.display()));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{file} differs (re-bless with BLESS=1 if intended)"
        );
        // The golden bytes decode as XML with the envelope the ACS expects.
        let root = cwmpd_testacs::dom::parse(&want).unwrap();
        assert_eq!(
            (root.ns.as_str(), root.name.as_str()),
            (SOAP_ENV, "Envelope")
        );
    }
}

/// The arguments that used to be read leniently (a default instead of an error) are invalid
/// arguments now (issue 13 §3), each with the field that is wrong.
#[test]
fn arguments_that_do_not_fit_are_invalid_not_defaults() {
    let invalid = |body: &str| match decode(wrap(body).as_bytes()).unwrap().invalid {
        Some((_, DecodeError::Invalid { field, .. })) => Some(("invalid", field)),
        Some((_, DecodeError::Missing { field, .. })) => Some(("missing", field)),
        other => panic!("{body}: {other:?}"),
    };
    let k33 = "k".repeat(MAX_KEY + 1);
    let spv = |key: &str| {
        format!("<c:SetParameterValues><ParameterList><p><Name>Device.X</Name><Value>1</Value></p></ParameterList>{key}</c:SetParameterValues>")
    };
    assert_eq!(
        invalid(&spv(&format!("<ParameterKey>{k33}</ParameterKey>"))),
        Some(("invalid", "ParameterKey"))
    );
    assert_eq!(invalid(&spv("")), Some(("missing", "ParameterKey")));
    for rpc in ["AddObject", "DeleteObject"] {
        assert_eq!(
            invalid(&format!("<c:{rpc}><ObjectName>Device.X.</ObjectName><ParameterKey>{k33}</ParameterKey></c:{rpc}>")),
            Some(("invalid", "ParameterKey"))
        );
    }
    let spa = |notification: &str| {
        format!("<c:SetParameterAttributes><ParameterList><s><Name>Device.X</Name><NotificationChange>1</NotificationChange>{notification}\
                 <AccessListChange>0</AccessListChange></s></ParameterList></c:SetParameterAttributes>")
    };
    for bad in ["active", "", "-1", "256"] {
        assert_eq!(
            invalid(&spa(&format!("<Notification>{bad}</Notification>"))),
            Some(("invalid", "Notification")),
            "{bad:?}"
        );
    }
    assert_eq!(invalid(&spa("")), Some(("missing", "Notification")));
    let long = "u".repeat(257);
    for field in [
        "Username",
        "Password",
        "TargetFileName",
        "SuccessURL",
        "FailureURL",
    ] {
        let body = format!("<c:Download><CommandKey>d</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://x/</URL><{field}>{long}</{field}></c:Download>");
        assert_eq!(invalid(&body), Some(("invalid", field)));
    }
    let window = format!("<c:ScheduleDownload><CommandKey>d</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://x/</URL><TimeWindowList><w><WindowStart>0</WindowStart><WindowEnd>9</WindowEnd><WindowMode>1 At Any Time</WindowMode><UserMessage>{long}</UserMessage><MaxRetries>1</MaxRetries></w></TimeWindowList></c:ScheduleDownload>");
    assert_eq!(invalid(&window), Some(("invalid", "UserMessage")));
}

#[test]
fn arguments_are_found_in_any_order_and_the_first_of_a_name_counts() {
    let d = decode(
        wrap("<c:AddObject><ParameterKey>k</ParameterKey><x><ObjectName>nested</ObjectName></x><ObjectName>Device.A.</ObjectName><ObjectName>Device.B.</ObjectName></c:AddObject>")
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        d.message,
        Some(AcsMessage::AddObject {
            object_name: "Device.A.".into(),
            parameter_key: "k".into()
        })
    );
    // An invalid argument leaves the rest of the envelope to be read: a broken one after it
    // is still an envelope error.
    let broken = wrap(
        "<c:Reboot><CommandKey>kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk</CommandKey></c:Reboot>",
    )
    .replace("</e:Envelope>", "");
    assert!(matches!(
        decode(broken.as_bytes()),
        Err(DecodeError::Xml(_))
    ));
}
