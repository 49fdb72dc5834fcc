//! Request bodies the scripted ACS sends (the body element of the envelope).

/// GetParameterValues of `names`.
pub fn gpv(names: &[&str]) -> String {
    let items: String = names
        .iter()
        .map(|n| format!("<string>{n}</string>"))
        .collect();
    format!("<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[{}]\">{items}</ParameterNames></cwmp:GetParameterValues>", names.len())
}

/// SetParameterValues of (name, xsd type without `xsd:`, value) with ParameterKey `key`.
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
pub fn spv(list: &[(&str, &str, &str)], key: &str) -> String {
    let items: String = list
        .iter()
        .map(|(n, t, v)| {
            format!("<ParameterValueStruct><Name>{n}</Name><Value xsi:type=\"xsd:{t}\">{v}</Value></ParameterValueStruct>")
        })
        .collect();
    format!(
        "<cwmp:SetParameterValues><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[{}]\">{items}</ParameterList>\
         <ParameterKey>{key}</ParameterKey></cwmp:SetParameterValues>",
        list.len()
    )
}

/// SetParameterAttributes: notification `level` (0 off, 1 passive, 2 active) for `names`.
#[cfg(all(feature = "netlink", feature = "diagnostics"))]
pub fn spa(names: &[&str], level: u8) -> String {
    let items: String = names
        .iter()
        .map(|n| {
            format!(
                "<SetParameterAttributesStruct><Name>{n}</Name><NotificationChange>1</NotificationChange><Notification>{level}</Notification>\
                 <AccessListChange>0</AccessListChange><AccessList></AccessList></SetParameterAttributesStruct>"
            )
        })
        .collect();
    format!(
        "<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType=\"cwmp:SetParameterAttributesStruct[{}]\">{items}</ParameterList></cwmp:SetParameterAttributes>",
        names.len()
    )
}
