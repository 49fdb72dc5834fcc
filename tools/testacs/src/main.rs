//! `cwmpd-testacs`: the demo ACS. It waits for cwmpd's bootstrap Inform, reads
//! `Device.DeviceInfo.`, sets two parameters, then sends a Connection Request and watches
//! the session it triggers, printing each step. Loopback only; not for routers.
//!
//! `cwmpd-testacs [PORT]` listens on 127.0.0.1:PORT (7557 by default); with `0` the system
//! picks a free port, and the first line printed (`testacs: listening on http://…/acs`)
//! names it.

use std::time::Duration;

use cwmpd_testacs::Acs;

fn main() -> std::process::ExitCode {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(7557);
    let acs = match Acs::start(port, Some(("cpe", "cpe-secret"))) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("testacs: cannot listen on 127.0.0.1:{port}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("testacs: listening on {} (Digest user cpe)", acs.url());
    acs.push("<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>Device.DeviceInfo.</string></ParameterNames></cwmp:GetParameterValues>");
    acs.push(
        "<cwmp:SetParameterValues><ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[2]\">\
         <ParameterValueStruct><Name>Device.ManagementServer.PeriodicInformInterval</Name><Value xsi:type=\"xsd:unsignedInt\">120</Value></ParameterValueStruct>\
         <ParameterValueStruct><Name>Device.DeviceInfo.ProvisioningCode</Name><Value xsi:type=\"xsd:string\">demo-1</Value></ParameterValueStruct>\
         </ParameterList><ParameterKey>demo-key</ParameterKey></cwmp:SetParameterValues>",
    );
    if !acs.wait_informs(1, Duration::from_secs(60)) {
        eprintln!("testacs: no Inform within 60 s");
        return std::process::ExitCode::FAILURE;
    }
    let first = &acs.informs()[0];
    println!("1. Inform: events {:?}", first.codes());
    for (n, v) in &first.params {
        println!("     {n} = {v}");
    }
    if !acs.wait(Duration::from_secs(30), |_, r, left| {
        left == 0 && r.len() >= 2
    }) {
        eprintln!("testacs: the scripted requests were not answered");
        return std::process::ExitCode::FAILURE;
    }
    let replies = acs.replies();
    println!(
        "2. GetParameterValues Device.DeviceInfo. → {} values",
        replies[0].values().len()
    );
    for (n, v) in replies[0].values().iter().take(12) {
        println!("     {n} = {v}");
    }
    println!(
        "3. SetParameterValues PeriodicInformInterval=120, ProvisioningCode=demo-1 → {}",
        replies[1].name
    );
    let Some(cr) = acs.cr_url() else {
        eprintln!("testacs: no ConnectionRequestURL in the Inform");
        return std::process::ExitCode::FAILURE;
    };
    // The bootstrap session is over (the ACS ended it), so the request starts a new one.
    if !acs.wait_ended(1, Duration::from_secs(30)) {
        eprintln!("testacs: the first session did not end");
        return std::process::ExitCode::FAILURE;
    }
    let t = std::time::Instant::now();
    match Acs::connection_request(&cr, "acs", "acs-secret") {
        Ok(status) => println!("4. Connection Request to {cr} → HTTP {status}"),
        Err(e) => {
            eprintln!("testacs: connection request failed: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    if !acs.wait_informs(2, Duration::from_secs(30)) {
        eprintln!("testacs: no Inform after the Connection Request");
        return std::process::ExitCode::FAILURE;
    }
    let second = &acs.informs()[1];
    println!(
        "5. Inform {:.1} ms after the Connection Request: events {:?}, ProvisioningCode = {:?}",
        t.elapsed().as_secs_f64() * 1000.0,
        second.codes(),
        second
            .param("Device.DeviceInfo.ProvisioningCode")
            .unwrap_or("")
    );
    // Let the session close (the CPE's empty POST answered with 204) before leaving.
    if !acs.wait_ended(2, Duration::from_secs(5)) {
        eprintln!("testacs: the second session did not end");
        return std::process::ExitCode::FAILURE;
    }
    let one_conn = acs.requests().iter().all(|(s, c)| {
        acs.requests()
            .iter()
            .filter(|(s2, _)| s2 == s)
            .all(|(_, c2)| c2 == c)
    });
    println!(
        "   each session used one TCP connection: {one_conn}; cookies echoed: {}",
        acs.cookie_errors() == 0
    );
    std::process::ExitCode::SUCCESS
}
