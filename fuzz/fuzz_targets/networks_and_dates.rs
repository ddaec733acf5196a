//! The configuration parsers: trusted-proxy networks (CIDR) and lifecycle dates. Any input is
//! parsed or refused, never a panic; parsed values are consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secure_endpoint::perimeter::IpNet;
use secure_endpoint::policy::LifecycleDate;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(net) = text.parse::<IpNet>() {
        let _ = net.contains("10.1.2.3".parse().unwrap());
        let _ = net.contains("2001:db8::1".parse().unwrap());
    }
    if let Some(date) = LifecycleDate::parse(text) {
        assert_eq!(date.to_string(), text, "a parsed date prints as written");
        assert_eq!(date.unix % 86_400, 0);
        let _ = date.http_date();
    }
});
