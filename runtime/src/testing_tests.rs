//! Unit tests of the test helpers.

use super::parse_rate;
use std::time::Duration;

#[test]
fn inventory_rates_parse() {
    assert_eq!(parse_rate("100/15m"), Some((100, Duration::from_secs(900))));
    assert_eq!(parse_rate("10/s"), Some((10, Duration::from_secs(1))));
    assert_eq!(parse_rate("5/2d"), Some((5, Duration::from_secs(172_800))));
    assert_eq!(parse_rate("0/1m"), None);
    assert_eq!(parse_rate("10/1x"), None);
}
